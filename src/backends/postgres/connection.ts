/**
 * Where a PostgreSQL queue lives: the connection settings and the schema,
 * resolved once, when a spec is parsed, as libpq resolves them: what a
 * `postgres://` URL gives, and for what it leaves out the PG* variables
 * (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT,
 * PGSSLCERT, PGSSLKEY, PGAPPNAME, PGCONNECT_TIMEOUT), then libpq's defaults.
 * Resolving early lets the CLI clear the secrets from its environment before
 * any task inherits it.
 *
 * The password lives in a private field: a `PostgresConnection` prints,
 * serialises and describes itself without it, and every error message the
 * backend makes goes through `redact`.
 */
import os from 'node:os';
import { inspect } from 'node:util';
import { UsageError } from '../../errors.js';

export const sslModes = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof sslModes)[number];

/** The schema jobq's tables live in unless JOBQ_PG_SCHEMA or `?schema=` says otherwise. */
export const DEFAULT_SCHEMA = 'jobq';
/** Lowercase SQL identifiers only, so that the schema never needs quoting rules beyond double quotes. */
const schemaPattern = /^[a-z_][a-z0-9_]{0,62}$/;

/** The settings a URL may carry, by their libpq names; anything else in the query string is ignored. */
interface UrlFields {
  host?: string;
  port?: string;
  user?: string;
  password?: string;
  dbname?: string;
  sslmode?: string;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  application_name?: string;
  connect_timeout?: string;
  schema?: string;
}

/** libpq's variable for each setting. */
const variables = {
  host: 'PGHOST',
  port: 'PGPORT',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  dbname: 'PGDATABASE',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME',
  connect_timeout: 'PGCONNECT_TIMEOUT',
} as const satisfies Partial<Record<keyof UrlFields, string>>;

export class PostgresConnection {
  readonly #password: string | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly user: string,
    readonly database: string,
    password: string | undefined,
    readonly sslMode: SslMode,
    readonly sslFiles: { readonly rootCert?: string; readonly cert?: string; readonly key?: string },
    readonly applicationName: string,
    readonly connectTimeoutMs: number,
    readonly schema: string,
    /** Where the settings came from, for messages: `--db-url`, `JOBQ_DATABASE_URL`, `the PG* variables`… */
    readonly source: string,
  ) {
    this.#password = password;
  }

  /** The password given in the URL or PGPASSWORD; undefined lets the driver look in ~/.pgpass. */
  get password(): string | undefined {
    return this.#password;
  }

  /** Whether the host is a Unix-domain socket directory (libpq never uses TLS there). */
  get isSocket(): boolean {
    return this.host.startsWith('/');
  }

  /** `postgres://user@host:port/database`, never with the password. */
  get url(): string {
    const host = this.isSocket ? encodeURIComponent(this.host) : this.host.includes(':') ? `[${this.host}]` : this.host;
    return `postgres://${encodeURIComponent(this.user)}@${host}:${this.port}/${encodeURIComponent(this.database)}`;
  }

  /** For logs and `Backend.description`: the URL with the schema (`?schema=`, as jobq reads it), without the password. */
  get description(): string {
    return `${this.url}?schema=${this.schema}`;
  }

  /** `text` with every occurrence of the password masked: the last guard before a message leaves the backend. */
  redact(text: string): string {
    const password = this.#password;
    if (password === undefined || password === '') return text;
    return text.split(password).join('***');
  }

  toJSON(): string {
    return this.description;
  }

  [inspect.custom](): string {
    return `PostgresConnection <${this.description}>`;
  }

  toString(): string {
    return this.description;
  }
}

/**
 * The connection for a URL (or, without one, the PG* variables of `env`), and
 * the schema: `?schema=` in the URL, else JOBQ_PG_SCHEMA, else `jobq`.
 * `source` names where the URL came from, for error messages (which never
 * repeat the URL: it may hold the password).
 */
export function resolveConnection(url: string | undefined, env: NodeJS.ProcessEnv, source: string): PostgresConnection {
  const given = url === undefined ? {} : parseUrl(url, source);
  const setting = (name: keyof typeof variables): string | undefined => {
    const value = given[name] ?? env[variables[name]];
    return value === undefined || value === '' ? undefined : value;
  };
  const user = setting('user') ?? os.userInfo().username;
  const sslMode = setting('sslmode') ?? 'prefer';
  if (!isSslMode(sslMode)) {
    throw new UsageError(`invalid sslmode "${sslMode}" (from ${source}): expected one of ${sslModes.join(', ')}`);
  }
  const schema = given.schema ?? env['JOBQ_PG_SCHEMA'] ?? DEFAULT_SCHEMA;
  if (!schemaPattern.test(schema)) {
    throw new UsageError(
      `invalid PostgreSQL schema "${schema}": use 1-63 lowercase letters, digits and underscores, not starting with a digit`,
    );
  }
  const rootCert = setting('sslrootcert');
  const cert = setting('sslcert');
  const key = setting('sslkey');
  return new PostgresConnection(
    setting('host') ?? 'localhost',
    integerSetting(setting('port') ?? '5432', 'port', source, 1, 65535),
    user,
    setting('dbname') ?? user,
    setting('password'),
    sslMode,
    { ...(rootCert === undefined ? {} : { rootCert }), ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }) },
    setting('application_name') ?? 'jobq',
    // libpq: 0 means wait forever; jobq never does (a worker must not hang), so 0 is the default of 10 s.
    integerSetting(setting('connect_timeout') ?? '10', 'connect_timeout', source, 0, 86_400) * 1000 || 10_000,
    schema,
    source,
  );
}

function isSslMode(value: string): value is SslMode {
  return (sslModes as readonly string[]).includes(value);
}

function integerSetting(text: string, name: string, source: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`invalid ${name} "${text}" (from ${source}): expected an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * The settings of a `postgres://` or `postgresql://` URL. Errors describe the
 * problem and the source, never the URL itself.
 */
export function parseUrl(text: string, source: string): UrlFields {
  const invalid = (why: string): UsageError =>
    new UsageError(`invalid PostgreSQL URL (from ${source}): ${why}; expected postgres://USER@HOST:PORT/DATABASE`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw invalid(`the scheme is not postgres://`);
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw invalid(`bad percent-encoding in the ${what}`);
    }
  };
  const fields: UrlFields = {};
  const host = decode(url.hostname.replace(/^\[(.*)\]$/, '$1'), 'host');
  if (host !== '') fields.host = host;
  if (url.port !== '') fields.port = url.port;
  if (url.username !== '') fields.user = decode(url.username, 'user name');
  if (url.password !== '') fields.password = decode(url.password, 'password');
  const database = url.pathname.replace(/^\//, '');
  if (database !== '') fields.dbname = decode(database, 'database name');
  const known = new Set<string>([...Object.keys(variables), 'schema']);
  for (const [name, value] of url.searchParams) {
    if (known.has(name)) fields[name as keyof UrlFields] = value;
  }
  return fields;
}
