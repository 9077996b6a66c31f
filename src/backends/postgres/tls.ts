/**
 * TLS as libpq's `sslmode` says (https://www.postgresql.org/docs/current/libpq-ssl.html):
 *
 * | sslmode | jobq |
 * | --- | --- |
 * | disable, allow | no TLS (allow: libpq would retry with TLS if the server refused plain; jobq does not) |
 * | prefer (default) | TLS without verification when the server offers it, else plain: asked once per process with an SSLRequest |
 * | require | TLS without verification; with a root certificate, as verify-ca (as libpq) |
 * | verify-ca | TLS, the server's certificate signed by the root certificate |
 * | verify-full | verify-ca, and the certificate names the host |
 *
 * The root certificate is `sslrootcert` (or PGSSLROOTCERT), else
 * `~/.postgresql/root.crt`; `sslrootcert=system` uses the system's CAs. A
 * client certificate is `sslcert`/`sslkey`, else `~/.postgresql/postgresql.crt`
 * and `.key` when they exist. Unix-domain sockets never use TLS.
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls, { type ConnectionOptions } from 'node:tls';
import { BackendError } from '../../errors.js';
import type { PostgresConnection } from './connection.js';

/** The `ssl` option of a pg client: false for plain connections. */
export type TlsSetting = false | ConnectionOptions;

/** SSLRequest: length 8, then the code 1234 5679 (PostgreSQL protocol, "SSLRequest"). */
const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** The pg `ssl` option for this connection; may ask the server once (prefer). */
export async function tlsSetting(connection: PostgresConnection): Promise<TlsSetting> {
  if (connection.isSocket) return false;
  switch (connection.sslMode) {
    case 'disable':
    case 'allow':
      return false;
    case 'prefer':
      return (await offersTls(connection)) ? { ...clientCertificate(connection), rejectUnauthorized: false } : false;
    case 'require':
      if (connection.sslFiles.rootCert === undefined && !existsSync(defaultFile('root.crt'))) {
        return { ...clientCertificate(connection), rejectUnauthorized: false };
      }
      return verified(connection, false);
    case 'verify-ca':
      return verified(connection, false);
    case 'verify-full':
      return verified(connection, true);
  }
}

function defaultFile(name: string): string {
  return path.join(os.homedir(), '.postgresql', name);
}

function readSetting(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new BackendError(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: err,
      permanent: true,
    });
  }
}

function clientCertificate(connection: PostgresConnection): Pick<ConnectionOptions, 'cert' | 'key'> {
  const cert = connection.sslFiles.cert ?? defaultFile('postgresql.crt');
  const key = connection.sslFiles.key ?? defaultFile('postgresql.key');
  if (connection.sslFiles.cert === undefined && !existsSync(cert)) return {};
  return { cert: readSetting(cert, 'client certificate (sslcert)'), key: readSetting(key, 'client key (sslkey)') };
}

function verified(connection: PostgresConnection, checkHost: boolean): ConnectionOptions {
  const rootCert = connection.sslFiles.rootCert ?? defaultFile('root.crt');
  const ca = rootCert === 'system' ? {} : { ca: readSetting(rootCert, `root certificate for sslmode=${connection.sslMode} (sslrootcert)`) };
  return {
    ...ca,
    ...clientCertificate(connection),
    rejectUnauthorized: true,
    ...(checkHost ? { servername: net.isIP(connection.host) ? undefined : connection.host } : { checkServerIdentity: () => undefined }),
  };
}

/**
 * Asks the server whether it speaks TLS (an SSLRequest, answered `S` or `N`).
 * A yes is followed by a handshake, and a no by nothing, so that the server
 * logs nothing about the connection closing.
 */
function offersTls(connection: PostgresConnection): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: connection.host, port: connection.port });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(connection.connectTimeoutMs, () => fail(new Error(`no answer within ${connection.connectTimeoutMs} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write(sslRequest));
    socket.once('data', (answer: Buffer) => {
      socket.setTimeout(0);
      socket.removeListener('error', fail);
      if (answer[0] !== 0x53) {
        socket.destroy();
        resolve(false);
        return;
      }
      const secure = tls.connect({ socket, rejectUnauthorized: false, servername: net.isIP(connection.host) ? undefined : connection.host });
      const done = (): void => {
        secure.destroy();
        resolve(true);
      };
      secure.once('secureConnect', () => secure.end(done));
      secure.once('error', done);
    });
  });
}
