/**
 * Queue specs (SPEC §3): `local/NAME`, `ACCOUNT/NAME`, any spec with a
 * connection string, `pg/NAME` and `postgres://HOST/DATABASE/NAME`
 * (PostgreSQL), and `sb://NAMESPACE/NAME` (not yet supported).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseUrl, resolveConnection, type PostgresConnection } from './postgres/connection.js';
import { ALLOW_SHARED_HOME_ENV } from './sqlite-files.js';

/** Suffixes jobq appends to a queue name for its companion queues. */
export const DEAD_LETTER_SUFFIX = '-failed';
export const CONTROL_SUFFIX = '-control';
/** Azure's limit (63) less the longest companion suffix. */
export const MAX_QUEUE_NAME_LENGTH = 63 - CONTROL_SUFFIX.length;

export type QueueTarget =
  | {
      readonly kind: 'local';
      readonly name: string;
      readonly file: string;
      /** JOBQ_ALLOW_SHARED_HOME=1: use a home other users can write to, or that is not ours (sqlite-files.ts). */
      readonly allowSharedHome?: boolean;
    }
  | { readonly kind: 'azure-account'; readonly name: string; readonly account: string }
  | { readonly kind: 'azure-connection-string'; readonly name: string; readonly connectionString: string }
  | { readonly kind: 'postgres'; readonly name: string; readonly connection: PostgresConnection };

export interface SpecEnvironment {
  /** An Azure Storage connection string (`--conn-str`); default JOBQ_CONNECTION_STRING. */
  connectionString?: string | undefined;
  /**
   * A file that holds it (`--conn-str-file`), so that the key is on no command
   * line; default JOBQ_CONNECTION_STRING_FILE. Precedence: `connectionString`,
   * `connectionStringFile`, JOBQ_CONNECTION_STRING, JOBQ_CONNECTION_STRING_FILE.
   */
  connectionStringFile?: string | undefined;
  /** `--db-url`: the PostgreSQL database of `pg/NAME` (else JOBQ_DATABASE_URL, DATABASE_URL, the PG* variables). */
  databaseUrl?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

const queueNamePattern = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;
const accountPattern = /^[a-z0-9]{3,24}$/;

export function validateQueueName(name: string): string {
  if (name.length < 3 || name.length > MAX_QUEUE_NAME_LENGTH || !queueNamePattern.test(name)) {
    throw new UsageError(
      `invalid queue name "${name}": use 3-${MAX_QUEUE_NAME_LENGTH} lowercase letters, digits and single hyphens, ` +
        'starting and ending with a letter or digit',
    );
  }
  return name;
}

/** `$JOBQ_HOME`, by default `~/.local/share/jobq`. */
export function jobqHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['JOBQ_HOME'];
  return home ? path.resolve(home) : path.join(os.homedir(), '.local', 'share', 'jobq');
}

/**
 * The queue spec, from the first of (documented in the README):
 *
 * 1. the command line (`jobq SPEC …` or `--queue SPEC`), or the API's argument;
 * 2. JOBQ_STORAGE_QUEUE, a full spec (the reference CLI's variable);
 * 3. JOBQ_QUEUE when it holds a full spec (a `/`: how jobq read it before);
 * 4. JOBQ_STORAGE and JOBQ_QUEUE, as the reference's `JobQ.from_environment`
 *    reads what `ai4s-jobq amlt` sets: a storage account, `sb://NAMESPACE`
 *    or `local`, and a bare queue name;
 * 5. JOBQ_QUEUE alone, a bare name (valid with a connection string).
 *
 * Undefined when none is set.
 */
export function findSpec(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (given) return given;
  const full = env['JOBQ_STORAGE_QUEUE'];
  if (full) return full;
  const queue = env['JOBQ_QUEUE'];
  if (queue?.includes('/')) return queue;
  const storage = env['JOBQ_STORAGE'];
  if (storage && queue) return `${storage.replace(/\/+$/, '')}/${queue}`;
  if (storage) throw new UsageError(`JOBQ_STORAGE is set (${storage}) but JOBQ_QUEUE, the queue's name, is not`);
  return queue || undefined;
}

/** As findSpec, but a UsageError when no queue is named anywhere. */
export function specFromEnvironment(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const spec = findSpec(given, env);
  if (spec === undefined) {
    throw new UsageError(
      'no queue given: put a spec such as local/NAME before the command, or set JOBQ_STORAGE_QUEUE ' +
        '(or JOBQ_STORAGE and JOBQ_QUEUE)',
    );
  }
  return spec;
}

/** The connection string given, directly or in a file, by the precedence of SpecEnvironment; undefined for none. */
function resolveConnectionString(options: SpecEnvironment, env: NodeJS.ProcessEnv): string | undefined {
  if (options.connectionString) return options.connectionString;
  if (options.connectionStringFile) return readConnectionStringFile(options.connectionStringFile, '--conn-str-file');
  if (env['JOBQ_CONNECTION_STRING']) return env['JOBQ_CONNECTION_STRING'];
  const file = env['JOBQ_CONNECTION_STRING_FILE'];
  return file ? readConnectionStringFile(file, 'JOBQ_CONNECTION_STRING_FILE') : undefined;
}

/** The connection string in `file` (surrounding white space, such as a final newline, dropped). */
function readConnectionStringFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the connection string file ${file} (${what}): ${(err as Error).message}`, { cause: err });
  }
  const connectionString = text.trim();
  if (connectionString === '') throw new UsageError(`the connection string file ${file} (${what}) is empty`);
  return connectionString;
}

/**
 * The PostgreSQL connection of `pg/NAME` (and of `jobq migrate`): `--db-url`,
 * else JOBQ_DATABASE_URL, else DATABASE_URL, else libpq's PG* variables.
 */
export function postgresConnection(options: SpecEnvironment = {}): PostgresConnection {
  const env = options.env ?? process.env;
  if (options.databaseUrl !== undefined) return resolveConnection(options.databaseUrl, env, '--db-url');
  for (const name of ['JOBQ_DATABASE_URL', 'DATABASE_URL']) {
    const url = env[name];
    if (url !== undefined && url !== '') return resolveConnection(url, env, name);
  }
  return resolveConnection(undefined, env, 'the PG* variables');
}

/**
 * `postgres://[USER@]HOST[:PORT]/DATABASE/NAME[?sslmode=…&schema=…]`: a
 * libpq URL with the queue's name as one more path segment. It must not hold
 * a password (a spec shows in `ps` and in logs): that comes from PGPASSWORD
 * or ~/.pgpass.
 */
function parsePostgresSpec(spec: string, env: NodeJS.ProcessEnv): QueueTarget {
  const expected = 'expected postgres://[USER@]HOST[:PORT]/DATABASE/QUEUE';
  const query = spec.indexOf('?');
  const base = query === -1 ? spec : spec.slice(0, query);
  const slash = base.lastIndexOf('/');
  const url = base.slice(0, slash) + (query === -1 ? '' : spec.slice(query));
  const fields = parseUrl(url, 'the queue spec');
  if (fields.password !== undefined) {
    throw new UsageError(
      'a queue spec must not hold a password (it would show in ps and in logs): ' +
        'give it in PGPASSWORD or ~/.pgpass, or use pg/NAME with JOBQ_DATABASE_URL',
    );
  }
  if (fields.dbname === undefined || fields.dbname.includes('/')) {
    throw new UsageError(`invalid queue spec: ${expected}`);
  }
  return { kind: 'postgres', name: validateQueueName(base.slice(slash + 1)), connection: resolveConnection(url, env, 'the queue spec') };
}

export function parseSpec(spec: string, options: SpecEnvironment = {}): QueueTarget {
  const env = options.env ?? process.env;
  // PostgreSQL specs name their backend outright: a connection string for Azure does not change them.
  if (spec.startsWith('pg/')) {
    return { kind: 'postgres', name: validateQueueName(spec.slice('pg/'.length)), connection: postgresConnection(options) };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) return parsePostgresSpec(spec, env);
  const connectionString = resolveConnectionString(options, env);
  if (spec.startsWith('sb://')) {
    throw new UsageError(`Azure Service Bus queues (${spec}) are not supported yet; use local/NAME or ACCOUNT/NAME`);
  }
  const slash = spec.indexOf('/');
  if (connectionString) {
    // With a connection string the account part, if any, is ignored.
    const name = validateQueueName(slash === -1 ? spec : spec.slice(slash + 1));
    return { kind: 'azure-connection-string', name, connectionString };
  }
  if (slash === -1) {
    throw new UsageError(
      `invalid queue spec "${spec}": expected local/NAME, ACCOUNT/NAME or pg/NAME (a bare queue name needs a connection string)`,
    );
  }
  if (spec.indexOf('/', slash + 1) !== -1) {
    throw new UsageError(`invalid queue spec "${spec}": expected local/NAME, ACCOUNT/NAME or pg/NAME`);
  }
  const prefix = spec.slice(0, slash);
  const name = validateQueueName(spec.slice(slash + 1));
  if (prefix === 'local') {
    return {
      kind: 'local',
      name,
      file: path.join(jobqHome(env), 'jobq.db'),
      allowSharedHome: env[ALLOW_SHARED_HOME_ENV] === '1',
    };
  }
  if (!accountPattern.test(prefix)) {
    throw new UsageError(
      `invalid queue spec "${spec}": "${prefix}" is neither "local" nor a storage account name (3-24 lowercase letters and digits)`,
    );
  }
  return { kind: 'azure-account', name, account: prefix };
}
