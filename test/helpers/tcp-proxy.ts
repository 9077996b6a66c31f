/**
 * A TCP proxy that a test puts between workers and the database server, to
 * play an outage without touching the server (other developers use it):
 *
 * - `forward()` (the start): bytes flow both ways;
 * - `refuse()`: the server is down: the proxy stops listening (new
 *   connections get ECONNREFUSED) and cuts every open connection;
 * - `stall()`: the server hangs, or the network drops everything: connections
 *   stay open and new ones are accepted, but no byte passes either way until
 *   `forward()` (the kernel buffers them, as a network does for a while);
 * - `cutOnce(match)`: the next chunk a client sends that `match`es reaches
 *   the server, and then the link is cut: the server got the call, the
 *   client never hears back (a connection lost in the middle of a commit).
 *
 * With `latencyMs`, every chunk is passed on that long after it came, in
 * order, each way: a link with a round trip of twice that (a VM and a storage
 * account in its region: 10 ms each way). For an HTTP/1 upstream the proxy
 * also tells which requests are in flight (from a request's first byte to
 * its reply's first byte passed back), so that a test can see a client
 * overlapping its calls.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  forward(): Promise<void>;
  refuse(): Promise<void>;
  stall(): void;
  /** Stops listening and cuts every connection (idempotent). */
  close(): Promise<void>;
  /** Cuts the link after passing on the next client chunk that `match`es; resolves once it is cut. */
  cutOnce(match: (chunk: Buffer) => boolean): Promise<void>;
  /**
   * Calls `listener` with the request lines (`DELETE /account/q/messages/…`)
   * in flight whenever they change; returns the unsubscribe.
   */
  watchRequests(listener: (inFlight: readonly string[]) => void): () => void;
}

export interface TcpProxyOptions {
  /** Where the proxy listens (default: a free loopback port). */
  readonly listen?: { host: string; port?: number };
  /** How long each chunk takes each way (default 0: at once). */
  readonly latencyMs?: number;
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export async function startTcpProxy(target: { host: string; port: number }, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const listen = options.listen ?? { host: '127.0.0.1' };
  const latencyMs = options.latencyMs ?? 0;
  const pairs = new Set<Pair>();
  let mode: 'forward' | 'stall' | 'refuse' = 'forward';
  let accepted = 0;
  /** The request line each connection waits on a reply to. */
  const inFlight = new Map<net.Socket, string>();
  const listeners = new Set<(inFlight: readonly string[]) => void>();
  let cutArmed: { match: (chunk: Buffer) => boolean; done: () => void } | undefined;
  const requestsChanged = (): void => listeners.forEach((listener) => listener([...inFlight.values()]));
  /** Passes a chunk on after the latency; timers of one length fire in the order they were set. */
  const pass = (to: net.Socket, chunk: Buffer, passed?: () => void): void => {
    const send = (): void => {
      if (to.destroyed) return;
      to.write(chunk);
      passed?.();
    };
    if (latencyMs > 0) setTimeout(send, latencyMs);
    else send();
  };
  const flow = (pair: Pair): void => {
    for (const socket of [pair.client, pair.upstream]) {
      if (mode === 'forward') socket.resume();
      else socket.pause();
    }
  };
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(target);
    const pair = { client, upstream };
    pairs.add(pair);
    /** Cut after a chunk was passed on: the server's side closes after the bytes, not before. */
    let cut = false;
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      if (cut) upstream.end();
      else upstream.destroy();
      if (inFlight.delete(client)) requestsChanged();
    };
    client.on('data', (chunk: Buffer) => {
      if (!inFlight.has(client)) {
        inFlight.set(client, chunk.toString('latin1', 0, Math.min(chunk.length, 200)).split(' HTTP/', 1)[0] ?? '');
        requestsChanged();
      }
      const armed = cutArmed?.match(chunk) ? cutArmed : undefined;
      if (!armed) {
        pass(upstream, chunk);
        return;
      }
      cutArmed = undefined;
      cut = true;
      pass(upstream, chunk, () => {
        end();
        armed.done();
      });
    });
    upstream.on('data', (chunk: Buffer) =>
      pass(client, chunk, () => {
        if (inFlight.delete(client)) requestsChanged();
      }),
    );
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    flow(pair);
  });
  const bind = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, listen.host, () => {
        server.removeListener('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await bind(listen.port ?? 0);
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
  const cutAll = (): void => {
    for (const pair of [...pairs]) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    pairs.clear();
  };
  const refuse = async (): Promise<void> => {
    mode = 'refuse';
    const closed = stopListening();
    cutAll();
    await closed;
  };
  return {
    host: listen.host,
    port,
    get accepted() {
      return accepted;
    },
    async forward() {
      mode = 'forward';
      if (!server.listening) await bind(port);
      pairs.forEach(flow);
    },
    refuse,
    stall() {
      mode = 'stall';
      pairs.forEach(flow);
    },
    close: refuse,
    cutOnce(match) {
      return new Promise((done) => (cutArmed = { match, done }));
    },
    watchRequests(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
