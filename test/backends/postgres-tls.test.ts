/**
 * TLS as libpq's sslmode says, against the machine's server, which has no
 * TLS of its own: a proxy in front of it answers PostgreSQL's SSLRequest,
 * ends TLS with a certificate for `localhost` signed by a test CA (made with
 * openssl), and passes the plain protocol on. It counts the connections that
 * came with TLS and without, so each test sees which one jobq chose.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { openPostgresBackend } from '../../src/backends/postgres/backend.js';
import { resolveConnection } from '../../src/backends/postgres/connection.js';
import { hasCode } from '../../src/errors.js';
import { testDatabase } from '../helpers/postgres.js';

const db = await testDatabase();
after(() => db.drop());

/** SSLRequest's code (PostgreSQL protocol). */
const SSL_REQUEST = 80877103;

interface TlsProxy {
  readonly port: number;
  readonly counts: { tls: number; plain: number };
  close(): Promise<void>;
}

/** A proxy to the server that speaks TLS to clients that ask for it. */
async function startTlsProxy(target: { host: string; port: number }, identity: { key: string; cert: string }): Promise<TlsProxy> {
  const counts = { tls: 0, plain: 0 };
  const sockets = new Set<net.Socket>();
  const join = (client: net.Socket | tls.TLSSocket, first?: Buffer): void => {
    const upstream = net.connect(target);
    sockets.add(upstream);
    if (first) upstream.write(first);
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('data', (first: Buffer) => {
      if (first.length === 8 && first.readUInt32BE(4) === SSL_REQUEST) {
        counts.tls += 1;
        client.write('S');
        join(new tls.TLSSocket(client, { isServer: true, ...identity }));
      } else {
        counts.plain += 1;
        join(client, first);
      }
    });
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    counts,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A CA, a server certificate for `localhost` signed by it, and another CA that signed nothing. */
function makeCertificates(dir: string): { ca: string; otherCa: string; key: string; cert: string } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  for (const name of ['ca', 'other']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=jobq test ${name}`);
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf');
  const file = (name: string) => path.join(dir, name);
  return { ca: file('ca.crt'), otherCa: file('other.crt'), key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.crt'), 'utf8') };
}

describe('PostgreSQL TLS by sslmode (through a TLS-ending proxy)', { skip: db.skip }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobq-tls-'));
  let certificates: ReturnType<typeof makeCertificates>;
  let proxy: TlsProxy;
  before(async () => {
    certificates = makeCertificates(dir);
    const server = new URL(db.url);
    proxy = await startTlsProxy({ host: server.hostname, port: Number(server.port || 5432) }, certificates);
  });
  after(async () => {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs one query with these settings; returns how many connections came with TLS and without. */
  async function connect(host: string, parameters: string): Promise<{ tls: number; plain: number }> {
    const before = { ...proxy.counts };
    const subject = openPostgresBackend(resolveConnection(`postgres://postgres@${host}:${proxy.port}/${db.name}?${parameters}`, {}, 'the test'));
    try {
      await subject.queue('tls-check').size();
    } finally {
      await subject.close();
    }
    return { tls: proxy.counts.tls - before.tls, plain: proxy.counts.plain - before.plain };
  }

  function failsWith(pattern: RegExp): (err: unknown) => boolean {
    return (err) => {
      assert.ok(hasCode(err, 'BACKEND'), String(err));
      assert.doesNotMatch((err as Error).message, /\n/);
      assert.match((err as Error).message, pattern);
      return true;
    };
  }

  it('verify-full: TLS, the certificate checked against the root certificate and the host name', async () => {
    const used = await connect('localhost', `sslmode=verify-full&sslrootcert=${certificates.ca}`);
    assert.ok(used.tls > 0 && used.plain === 0, JSON.stringify(used));
    await assert.rejects(connect('127.0.0.1', `sslmode=verify-full&sslrootcert=${certificates.ca}`), failsWith(/altnames|does not match/i));
    await assert.rejects(connect('localhost', `sslmode=verify-full&sslrootcert=${certificates.otherCa}`), failsWith(/certificate/i));
  });

  it('verify-ca: the root certificate, not the host name', async () => {
    const used = await connect('127.0.0.1', `sslmode=verify-ca&sslrootcert=${certificates.ca}`);
    assert.ok(used.tls > 0 && used.plain === 0, JSON.stringify(used));
    await assert.rejects(connect('127.0.0.1', `sslmode=verify-ca&sslrootcert=${certificates.otherCa}`), failsWith(/certificate/i));
  });

  it('require and prefer: TLS without checks; disable: plain', async () => {
    for (const mode of ['require', 'prefer']) {
      const used = await connect('127.0.0.1', `sslmode=${mode}`);
      assert.ok(used.tls > 0 && used.plain === 0, `${mode}: ${JSON.stringify(used)}`);
    }
    const plain = await connect('127.0.0.1', 'sslmode=disable');
    assert.ok(plain.tls === 0 && plain.plain > 0, JSON.stringify(plain));
  });
});
