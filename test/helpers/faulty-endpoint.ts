/**
 * A loopback endpoint between jobq and a real Azurite, for storage faults
 * that Azurite itself cannot show. By mode, it:
 *
 * - `proxy`: relays every connection to Azurite;
 * - `stall`: accepts connections and never answers (a stalled proxy, a
 *   half-open connection); connections being relayed when it switches to
 *   `stall` go silent too, as after a network change;
 * - `status`: answers every request with one HTTP status (429, 503…) and
 *   closes the connection.
 *
 * A new mode applies to new connections, and ends the relaying of kept-alive
 * ones (`stall`: they go silent; `status`: they close). Silent connections
 * stay silent, as in the real fault, until the client gives up on them.
 */
import net from 'node:net';
import type { Azurite } from './azurite.js';

export type EndpointMode = { kind: 'proxy' } | { kind: 'stall' } | { kind: 'status'; status: number };

export interface FaultyEndpoint {
  readonly port: number;
  /** Azurite's connection string, with this endpoint as the queue endpoint. */
  readonly connectionString: string;
  setMode(mode: EndpointMode): void;
  close(): Promise<void>;
}

export async function startFaultyEndpoint(azurite: Azurite, mode: EndpointMode): Promise<FaultyEndpoint> {
  let current = mode;
  const sockets = new Set<net.Socket>();
  /** Relayed connections: the client's socket and Azurite's. */
  const relays = new Map<net.Socket, net.Socket>();

  const silence = (client: net.Socket): void => {
    const upstream = relays.get(client);
    relays.delete(client);
    client.unpipe();
    upstream?.unpipe();
    upstream?.destroy();
    // Whatever the client sends is read and dropped; nothing ever comes back.
    client.removeAllListeners('data');
    client.on('data', () => undefined);
    client.resume();
  };

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => {
      sockets.delete(client);
      relays.get(client)?.destroy();
      relays.delete(client);
    });
    client.on('error', () => client.destroy());
    const now = current;
    if (now.kind === 'stall') {
      silence(client);
      return;
    }
    if (now.kind === 'status') {
      client.once('data', () => {
        client.end(`HTTP/1.1 ${now.status} Fault\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      });
      return;
    }
    const upstream = net.connect({ port: azurite.port, host: '127.0.0.1' });
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      if (relays.get(client) === upstream) client.destroy();
    });
    relays.set(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the endpoint has no port');
  const port = address.port;
  return {
    port,
    connectionString: azurite.connectionString.replace(`127.0.0.1:${azurite.port}`, `127.0.0.1:${port}`),
    setMode(mode) {
      current = mode;
      // Kept-alive connections would otherwise go on being relayed.
      for (const client of [...relays.keys()]) {
        if (mode.kind === 'stall') silence(client);
        else if (mode.kind === 'status') client.destroy();
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
