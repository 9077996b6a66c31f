/**
 * A stand-in for the GCE metadata server, as Google documents it: every
 * request needs `Metadata-Flavor: Google` (403 without it, and with
 * X-Forwarded-For); answers carry `Metadata-Flavor: Google` and the value's
 * `ETag`. `?wait_for_change=true` holds the request until the value changes
 * from the version `last_etag` names (at once if that is not the current
 * one; from the current one without `last_etag`), or until `timeout_sec`
 * has passed, when the unchanged value is sent.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeMetadataServer } from './fake-metadata-server.js';

export const gcePaths = {
  preempted: '/computeMetadata/v1/instance/preempted',
  maintenanceEvent: '/computeMetadata/v1/instance/maintenance-event',
} as const;

interface Entry {
  value: string;
  etag: string;
}

interface Waiter {
  path: string;
  response: ServerResponse;
  timer: NodeJS.Timeout | undefined;
}

export class FakeGceMetadata extends FakeMetadataServer {
  /** Requests refused for want of the Metadata-Flavor header. */
  forbidden = 0;
  private version = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Set<Waiter>();

  constructor() {
    super();
    this.set(gcePaths.preempted, 'FALSE');
    this.set(gcePaths.maintenanceEvent, 'NONE');
  }

  /** Requests held open right now. */
  get held(): number {
    return this.waiters.size;
  }

  /** Sets a value; a change answers the requests waiting for one. */
  set(path: string, value: string): void {
    if (this.entries.get(path)?.value === value) return;
    this.version += 1;
    const entry = { value, etag: createHash('sha256').update(`${this.version}:${value}`).digest('hex').slice(0, 16) };
    this.entries.set(path, entry);
    for (const waiter of [...this.waiters]) {
      if (waiter.path === path) this.answer(waiter, entry);
    }
  }

  protected handle(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (request.headers['metadata-flavor'] !== 'Google' || request.headers['x-forwarded-for'] !== undefined) {
      this.forbidden += 1;
      response.writeHead(403, { 'content-type': 'text/html' }).end('<p>Your client does not have permission to get URL.</p>');
      return;
    }
    const entry = this.entries.get(url.pathname);
    if (entry === undefined) {
      response.writeHead(404, { 'content-type': 'text/html', 'metadata-flavor': 'Google' }).end('<p>Not Found</p>');
      return;
    }
    const waiter: Waiter = { path: url.pathname, response, timer: undefined };
    const lastEtag = url.searchParams.get('last_etag');
    const wait = url.searchParams.get('wait_for_change') === 'true' && (lastEtag === null || lastEtag === entry.etag);
    if (!wait) {
      this.answer(waiter, entry);
      return;
    }
    const timeoutSec = Number(url.searchParams.get('timeout_sec') ?? 'NaN');
    if (Number.isFinite(timeoutSec) && timeoutSec > 0) {
      waiter.timer = setTimeout(() => this.answer(waiter, this.entries.get(waiter.path) ?? entry), timeoutSec * 1000);
    }
    this.waiters.add(waiter);
    response.on('close', () => this.drop(waiter));
  }

  protected override beforeStop(): void {
    for (const waiter of [...this.waiters]) this.drop(waiter);
  }

  private answer(waiter: Waiter, entry: Entry): void {
    this.drop(waiter);
    waiter.response
      .writeHead(200, { 'content-type': 'application/text', 'metadata-flavor': 'Google', etag: entry.etag })
      .end(entry.value);
  }

  private drop(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
  }
}
