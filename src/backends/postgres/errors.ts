/**
 * PostgreSQL failures as jobq errors: one line, naming the queue and the
 * database (never the password), with the driver's error as `cause`.
 *
 * A failure is permanent (a worker stops instead of retrying) only when
 * waiting cannot mend it: the server refused the credentials (SQLSTATE class
 * 28), the database does not exist (3D000), jobq may not use the schema
 * (42501), or a file named in the settings cannot be read. An unreachable
 * server, a connection cut, a timeout or a restart are not: the worker backs
 * off and tries again, as for an Azure outage.
 */
import { BackendError, isJobqError, type JobqError } from '../../errors.js';
import type { PostgresConnection } from './connection.js';

/** SQLSTATEs (and classes) that retrying cannot mend. */
const permanentStates = ['28', '3D000', '42501'];

/** SQLSTATEs after which the statement can be run again as it was: it was rolled back. */
const retryableStates = new Set(['40001', '40P01']);

/** The SQLSTATE of a server error, if the failure is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  // Node's network errors also have a code (ECONNREFUSED): SQLSTATEs are five digits or capitals.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A deadlock or serialization failure: the statement was rolled back and may simply run again. */
export function isRetryable(err: unknown): boolean {
  const state = sqlState(err);
  return state !== undefined && retryableStates.has(state);
}

/**
 * Whether the server answered with an error, so that the statement is known
 * to have been rolled back; without one (a connection cut, a client timeout)
 * the statement may have committed.
 */
export function serverRejected(err: unknown): boolean {
  return sqlState(err) !== undefined;
}

/** One line about any failure: the server's message and SQLSTATE, or the network error's codes. */
export function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const state = sqlState(err);
  if (state !== undefined) return `${err.message} (SQLSTATE ${state})`;
  // Connecting to a name with several addresses fails with an AggregateError whose message is empty.
  const inner = (err as Error & { errors?: unknown }).errors;
  if (err.message === '' && Array.isArray(inner) && inner.length > 0) {
    return [...new Set(inner.map((each) => describeFailure(each)))].join('; ');
  }
  const code = (err as NodeJS.ErrnoException).code;
  const message = err.message.replace(/\s*\n\s*/g, ' ');
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}

/** A failure of `action` on `where` as a BackendError (a JobqError passes through). */
export function backendFailure(err: unknown, action: string, where: string, connection: PostgresConnection): JobqError {
  if (isJobqError(err)) return err;
  const state = sqlState(err);
  const permanent = state !== undefined && permanentStates.some((prefix) => state.startsWith(prefix));
  const message = connection.redact(`${where}: ${action} failed: ${describeFailure(err)}`);
  return new BackendError(message, { cause: err, permanent });
}
