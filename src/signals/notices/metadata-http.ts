/**
 * HTTP to a cloud's metadata service, for the notice detectors: undici with
 * its own connection pool (never a proxy from the environment), loaded on the
 * first request (most workers never make one, and loading undici takes 40 ms),
 * a deadline for each whole exchange so that an endpoint that hangs or
 * trickles never holds a detector up, and a cap on the answer's size.
 */
import type { Agent, request as undiciRequest } from 'undici';

export interface MetadataRequest {
  /** Default GET. */
  method?: 'GET' | 'PUT';
  headers: Readonly<Record<string, string>>;
  /** The whole exchange, headers and body, must be over within this long, ms. */
  timeoutMs: number;
  /** Aborts the request: the detector is stopping. */
  signal: AbortSignal;
}

export interface MetadataResponse {
  readonly status: number;
  /** A response header by name (any case); the first value when repeated. */
  header(name: string): string | undefined;
  readonly body: string;
}

/** Every answer a detector reads is a few hundred bytes; more means something else answers. */
const maxBodyBytes = 64 * 1024;

interface Http {
  agent: Agent;
  request: typeof undiciRequest;
}

export class MetadataClient {
  private http: Promise<Http> | undefined;

  async request(url: string, init: MetadataRequest): Promise<MetadataResponse> {
    const { agent, request } = await (this.http ??= loadHttp());
    // One controller per request, aborted by the deadline or by the caller. (Not AbortSignal.any:
    // signals composed on a long-lived one have been a source of leaks in Node, and a detector runs for days.)
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, init.timeoutMs);
    const onAbort = (): void => abort.abort();
    init.signal.addEventListener('abort', onAbort, { once: true });
    if (init.signal.aborted) abort.abort();
    try {
      const response = await request(url, {
        method: init.method ?? 'GET',
        headers: init.headers,
        dispatcher: agent,
        signal: abort.signal,
        headersTimeout: init.timeoutMs,
        bodyTimeout: init.timeoutMs,
      });
      const body = await readCapped(response.body);
      const headers = response.headers;
      return {
        status: response.statusCode,
        header: (name) => {
          const value = headers[name.toLowerCase()];
          return Array.isArray(value) ? value[0] : value;
        },
        body,
      };
    } catch (err) {
      if (timedOut && !init.signal.aborted) throw new Error(`no answer within ${init.timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
      init.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Closes the connections (aborting none: stop the requests first). */
  async close(): Promise<void> {
    const http = this.http;
    this.http = undefined;
    if (http) await (await http).agent.destroy();
  }
}

async function loadHttp(): Promise<Http> {
  const undici = await import('undici');
  return {
    agent: new undici.Agent({ keepAliveTimeout: 10_000, connect: { timeout: 2_000 } }),
    request: undici.request,
  };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBodyBytes) {
      body.destroy();
      throw new Error(`an answer larger than ${maxBodyBytes / 1024} KiB`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
