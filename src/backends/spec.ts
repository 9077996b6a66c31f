/**
 * Queue specs (SPEC §3): `local/NAME`, `ACCOUNT/NAME`, any spec with a
 * connection string, and `sb://NAMESPACE/NAME` (not yet supported).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
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
  | { readonly kind: 'azure-connection-string'; readonly name: string; readonly connectionString: string };

export interface SpecEnvironment {
  /** An Azure Storage connection string (`--conn-str`); default JOBQ_CONNECTION_STRING. */
  connectionString?: string | undefined;
  /**
   * A file that holds it (`--conn-str-file`), so that the key is on no command
   * line; default JOBQ_CONNECTION_STRING_FILE. Precedence: `connectionString`,
   * `connectionStringFile`, JOBQ_CONNECTION_STRING, JOBQ_CONNECTION_STRING_FILE.
   */
  connectionStringFile?: string | undefined;
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

/** The queue spec from the command line, else JOBQ_QUEUE, else JOBQ_STORAGE_QUEUE. */
export function specFromEnvironment(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const spec = given ?? env['JOBQ_QUEUE'] ?? env['JOBQ_STORAGE_QUEUE'];
  if (!spec) {
    throw new UsageError('no queue given: put a spec such as local/NAME before the command, or set JOBQ_QUEUE');
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

export function parseSpec(spec: string, options: SpecEnvironment = {}): QueueTarget {
  const env = options.env ?? process.env;
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
  if (slash === -1 || spec.indexOf('/', slash + 1) !== -1) {
    throw new UsageError(`invalid queue spec "${spec}": expected local/NAME or ACCOUNT/NAME`);
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
