/**
 * The dashboard's options in three layers (STYLE practice 8): what a caller
 * gives (`DashboardOptions`), the defaults, and the resolved set, checked
 * here. Safe by default: it listens on 127.0.0.1 only; any other address
 * needs a token (given, or generated here), and then every request needs it.
 * Write actions (requeue, purge) always need the token; `readOnly` refuses
 * them altogether.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { UsageError } from '../errors.js';
import { integerOption } from '../options/validate.js';

export interface DashboardOptions {
  /** The address to listen on (default 127.0.0.1). Anything but a loopback address needs `token`, or gets a generated one. */
  host?: string;
  /** The port (default 8080; 0: any free port). */
  port?: number;
  /** The token that write actions, and every request off loopback, must carry (default: a random one). */
  token?: string;
  /** Refuse write actions, and show none (default false). */
  readOnly?: boolean;
  /** Refresh the page's data at most this often, ms (default 2 s; at least 2 s). */
  refreshMs?: number;
}

export interface ResolvedDashboardOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** Whether the token was generated (it is then shown once, in the URL). */
  readonly tokenGenerated: boolean;
  /** Whether `host` is a loopback address: reads then need no token. */
  readonly loopback: boolean;
  readonly readOnly: boolean;
  readonly refreshMs: number;
}

export const dashboardDefaults = { host: '127.0.0.1', port: 8080, readOnly: false, refreshMs: 2_000 } as const;

/** The shortest token accepted: a guessable one would defeat the point. */
const minTokenLength = 16;

/** Whether `host` names this machine's loopback interface only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return net.isIPv4(bare) && bare.startsWith('127.');
}

export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  const host = (options.host ?? dashboardDefaults.host).trim();
  if (host === '') throw new UsageError('the dashboard host must not be empty');
  const token = options.token?.trim();
  if (token !== undefined && token.length < minTokenLength) {
    throw new UsageError(`the dashboard token must be at least ${minTokenLength} characters`);
  }
  return {
    host,
    port: integerOption(options.port ?? dashboardDefaults.port, 'port', 0, 65_535),
    token: token ?? randomBytes(24).toString('base64url'),
    tokenGenerated: token === undefined,
    loopback: isLoopbackHost(host),
    readOnly: options.readOnly ?? dashboardDefaults.readOnly,
    refreshMs: integerOption(options.refreshMs ?? dashboardDefaults.refreshMs, 'refreshMs', dashboardDefaults.refreshMs),
  };
}
