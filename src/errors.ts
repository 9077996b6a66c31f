/**
 * jobq's error classes. Every error carries a stable `code`; callers branch on
 * the code (or use `isJobqError`), never on message text. The brand symbol lets
 * the check work across duplicated copies of the library (undici's approach).
 */

const brand = Symbol.for('jobq.error');

export type ErrorCode =
  | 'USAGE'
  | 'LEASE_LOST'
  | 'INVALID_TASK'
  | 'TASK_TOO_LARGE'
  | 'BACKEND'
  | 'UNSAFE_PATH'
  | 'PUSH_INCOMPLETE'
  | 'EMPTY_QUEUE';

export class JobqError extends Error {
  readonly code: ErrorCode;
  /** The message as created: oclif rewrites `message` of errors thrown while it parses a flag. */
  readonly description: string;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.description = message;
    this.name = 'JobqError';
  }
}

/** Bad input from a user: a spec, a flag, a line of stdin. The CLI exits 2. */
export class UsageError extends JobqError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('USAGE', message, options);
    this.name = 'UsageError';
  }
}

/** A settle or heartbeat with a lease token that is no longer valid. */
export class LeaseLostError extends JobqError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LEASE_LOST', message, options);
    this.name = 'LeaseLostError';
  }
}

/** A message body that is not a valid task (§4). */
export class InvalidTaskError extends JobqError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_TASK', message, options);
    this.name = 'InvalidTaskError';
  }
}

/** A task whose message would exceed the backend's size limit. */
export class TaskTooLargeError extends JobqError {
  constructor(message: string) {
    super('TASK_TOO_LARGE', message);
    this.name = 'TaskTooLargeError';
  }
}

/** A storage failure: the backend could not be reached or refused the call. */
export class BackendError extends JobqError {
  /** Retrying cannot help (a corrupt database file): a worker stops instead of waiting for the backend. */
  readonly permanent: boolean;
  /**
   * The write may or may not have happened: the connection was lost while it
   * was being committed, so its outcome never came back.
   */
  readonly outcomeUnknown: boolean;

  constructor(message: string, options?: { cause?: unknown; permanent?: boolean; outcomeUnknown?: boolean }) {
    super('BACKEND', message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BackendError';
    this.permanent = options?.permanent ?? false;
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }
}

/**
 * A folder or file jobq keeps its state in (JOBQ_HOME, the PID folder) that
 * another user could write to, or that is not this user's: jobq refuses it.
 */
export class UnsafePathError extends JobqError {
  constructor(message: string) {
    super('UNSAFE_PATH', message);
    this.name = 'UnsafePathError';
  }
}

/** A queue with nothing to show where something was asked for (`peek`, as the reference's EmptyQueue). */
export class EmptyQueueError extends JobqError {
  constructor(message: string) {
    super('EMPTY_QUEUE', message);
    this.name = 'EmptyQueueError';
  }
}

/**
 * A push that stopped part way (a backend failure, or an interrupt) on a
 * backend without atomic pushes: it says exactly what was enqueued and where
 * to resume. (On backends with atomic pushes nothing is enqueued: `enqueued`
 * is 0 and there is nothing to resume.)
 */
export class PushIncompleteError extends JobqError {
  constructor(
    message: string,
    readonly details: {
      /** Tasks enqueued before the push stopped. */
      readonly enqueued: number;
      /** Tasks the input held, when it was read to the end. */
      readonly total: number | undefined;
      /** The origin (`line 12`, `-c number 3`, `task 7`) of the first task not enqueued. */
      readonly resumeFrom: string | undefined;
      /** Origins of tasks after `resumeFrom` that are enqueued already (sends run concurrently). */
      readonly enqueuedAfterResume: readonly string[];
      /** Stopped by SIGINT or SIGTERM rather than by a failure. */
      readonly interrupted: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super('PUSH_INCOMPLETE', message, options);
    this.name = 'PushIncompleteError';
  }
}

/** Whether an error is a backend failure that retrying cannot mend. */
export function isPermanentBackendError(err: unknown): boolean {
  return hasCode(err, 'BACKEND') && (err as BackendError).permanent;
}

export function isJobqError(err: unknown): err is JobqError {
  return typeof err === 'object' && err !== null && (err as { [brand]?: unknown })[brand] === true;
}

export function hasCode(err: unknown, code: ErrorCode): boolean {
  return isJobqError(err) && err.code === code;
}

/** The message of any thrown value, for logs and dead-letter records. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What a value is, for an error message: `null`, `an array`, `an object`, `a string`… */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
