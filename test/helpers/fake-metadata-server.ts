/**
 * What the stand-ins for the clouds' metadata services share (they are the
 * one kind of service that cannot run here): a loopback HTTP server that
 * counts every request by path, and faults a test can switch on: `hang`
 * (requests are taken and never answered) and `garbage` (every request gets
 * 200 with an HTML page, as from a captive portal or a proxy). Each subclass
 * speaks its cloud's protocol, refusals included.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type MetadataFault = 'hang' | 'garbage';

export abstract class FakeMetadataServer {
  /** Every request, whatever became of it. */
  requests = 0;
  /** Switch a fault on (or off with undefined) at any time. */
  fault: MetadataFault | undefined;
  private readonly byPath = new Map<string, number>();
  private readonly server: Server = createServer((request, response) => this.dispatch(request, response));

  /** Listens on a free loopback port; resolves with the base URL, e.g. `http://127.0.0.1:4321`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests to a path (without its query). */
  requestsTo(path: string): number {
    return this.byPath.get(path) ?? 0;
  }

  async stop(): Promise<void> {
    this.beforeStop();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected abstract handle(request: IncomingMessage, response: ServerResponse, url: URL): void;

  /** Ends what a subclass holds open (long polls). */
  protected beforeStop(): void {}

  private dispatch(request: IncomingMessage, response: ServerResponse): void {
    this.requests += 1;
    const url = new URL(request.url ?? '/', 'http://metadata');
    this.byPath.set(url.pathname, this.requestsTo(url.pathname) + 1);
    if (this.fault === 'hang') return; // never answered; closed when the client gives up or the server stops
    if (this.fault === 'garbage') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please log in to continue</body></html>');
      return;
    }
    this.handle(request, response, url);
  }
}
