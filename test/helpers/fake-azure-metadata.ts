/**
 * A stand-in for the Azure instance metadata service's scheduled events, as
 * Microsoft documents them: requests need the header `Metadata: true` and an
 * `api-version` (400 otherwise); the document has a `DocumentIncarnation`
 * that changes with its `Events`. A test announces and withdraws Preempt
 * events. `instance/compute/name` (text) tells the machine's name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeMetadataServer } from './fake-metadata-server.js';

export const azurePaths = {
  scheduledEvents: '/metadata/scheduledevents',
  computeName: '/metadata/instance/compute/name',
} as const;

export interface PreemptOptions {
  /** NotBefore (default 30 s from now); `started` for the blank NotBefore of an event under way. */
  notBefore?: Date | 'started';
  /** The machines the event is for (default: this one). */
  resources?: string[];
  eventId?: string;
}

export class FakeAzureMetadata extends FakeMetadataServer {
  /** This machine's name, as compute/name tells it. */
  machineName = 'worker-vm';
  badRequests = 0;
  private incarnation = 1;
  private events: object[] = [];

  preempt(options: PreemptOptions = {}): void {
    const notBefore = options.notBefore ?? new Date(Date.now() + 30_000);
    this.incarnation += 1;
    this.events = [
      ...this.events,
      {
        EventId: options.eventId ?? 'A123BC45-1234-5678-AB90-ABCDEF123456',
        EventStatus: notBefore === 'started' ? 'Started' : 'Scheduled',
        EventType: 'Preempt',
        ResourceType: 'VirtualMachine',
        Resources: options.resources ?? [this.machineName],
        NotBefore: notBefore === 'started' ? '' : notBefore.toUTCString(),
        Description: 'Spot eviction',
        EventSource: 'Platform',
        DurationInSeconds: -1,
      },
    ];
  }

  withdraw(): void {
    this.incarnation += 1;
    this.events = [];
  }

  protected handle(request: IncomingMessage, response: ServerResponse, url: URL): void {
    const known = url.pathname === azurePaths.scheduledEvents || url.pathname === azurePaths.computeName;
    if (request.headers['metadata'] !== 'true' || !url.searchParams.has('api-version') || !known) {
      this.badRequests += 1;
      response
        .writeHead(400, { 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify({ error: 'Bad request. Required metadata header not specified' }));
      return;
    }
    if (url.pathname === azurePaths.computeName) {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(this.machineName);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ DocumentIncarnation: this.incarnation, Events: this.events }));
  }
}
