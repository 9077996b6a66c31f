/**
 * A TCP proxy that a test puts between workers and the database server, to
 * play an outage without touching the server (other developers use it):
 *
 * - `forward()` (the start): bytes flow both ways;
 * - `refuse()`: the server is down: the proxy stops listening (new
 *   connections get ECONNREFUSED) and cuts every open connection;
 * - `stall()`: the server hangs, or the network drops everything: connections
 *   stay open and new ones are accepted, but no byte passes either way until
 *   `forward()` (the kernel buffers them, as a network does for a while).
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
}

interface Pair {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
}

export async function startTcpProxy(
  target: { host: string; port: number },
  listen: { host: string; port?: number } = { host: '127.0.0.1' },
): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: 'forward' | 'stall' | 'refuse' = 'forward';
  let accepted = 0;
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
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
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
    async refuse() {
      mode = 'refuse';
      const closed = stopListening();
      cutAll();
      await closed;
    },
    stall() {
      mode = 'stall';
      pairs.forEach(flow);
    },
    async close() {
      mode = 'refuse';
      const closed = stopListening();
      cutAll();
      await closed;
    },
  };
}
