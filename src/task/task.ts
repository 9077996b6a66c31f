/**
 * The task model and its wire format (SPEC §4). A message body is
 *
 *   {"version": 1, "reply_requested": false, "kwargs": "<json>", "num_retries": 0, "id": "<id>"}
 *
 * written exactly as the Python reference writes it. The kwargs text is kept as
 * it arrived, so a task read from the queue and written back (a retry) keeps the
 * bytes another producer wrote, even where JavaScript numbers could not.
 */
import { createHash, randomUUID } from 'node:crypto';
import { InvalidTaskError } from '../errors.js';
import { pythonDumps, pythonString } from './python-json.js';

export type Kwargs = Record<string, unknown>;

export interface Task {
  readonly id: string;
  /** The kwargs as JSON text, byte for byte as on the wire. */
  readonly kwargsJson: string;
  readonly kwargs: Kwargs;
  readonly numRetries: number;
  readonly replyRequested: boolean;
}

export interface NewTaskOptions {
  /** Retries left after a failure (default 0). */
  numRetries?: number;
  /** Whether the producer waits for the result (default false). */
  replyRequested?: boolean;
  /** The MD5 of the task's wire text as its id, else a random one (default true; the API and CLI default to JOBQ_DETERMINISTIC_IDS). */
  deterministicId?: boolean;
}

function header(replyRequested: boolean, kwargsJson: string, numRetries: number): string {
  return (
    `{"version": 1, "reply_requested": ${replyRequested ? 'true' : 'false'}, ` +
    `"kwargs": ${pythonString(kwargsJson)}, "num_retries": ${numRetries}`
  );
}

function assertPlainObject(kwargs: unknown): asserts kwargs is Kwargs {
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) {
    throw new InvalidTaskError('kwargs must be a JSON object');
  }
}

function assertRetries(numRetries: number): void {
  if (!Number.isSafeInteger(numRetries) || numRetries < 0) {
    throw new InvalidTaskError(`num_retries must be a non-negative integer, got ${numRetries}`);
  }
}

/** A new task from kwargs; its id is the MD5 of its wire text unless ids are random. */
export function createTask(kwargs: Kwargs, options: NewTaskOptions = {}): Task {
  assertPlainObject(kwargs);
  let kwargsJson: string;
  try {
    kwargsJson = pythonDumps(kwargs);
  } catch (err) {
    throw new InvalidTaskError(`kwargs are not JSON: ${(err as Error).message}`, { cause: err });
  }
  return createTaskFromKwargsJson(kwargsJson, options);
}

/**
 * A new task from the JSON text of its kwargs, already written as the
 * reference writes it (a JSON object in Python's `json.dumps` form): the
 * text is kept byte for byte, so the id is the one the reference computes.
 */
export function createTaskFromKwargsJson(kwargsJson: string, options: NewTaskOptions = {}): Task {
  const numRetries = options.numRetries ?? 0;
  assertRetries(numRetries);
  const replyRequested = options.replyRequested ?? false;
  const kwargs: unknown = JSON.parse(kwargsJson);
  assertPlainObject(kwargs);
  const deterministic = options.deterministicId ?? true;
  const id = deterministic
    ? createHash('md5').update(header(replyRequested, kwargsJson, numRetries) + '}').digest('hex')
    : randomUUID().replaceAll('-', '');
  return { id, kwargsJson, kwargs, numRetries, replyRequested };
}

/** The message body of a task. */
export function serializeTask(task: Task): string {
  return `${header(task.replyRequested, task.kwargsJson, task.numRetries)}, "id": ${pythonString(task.id)}}`;
}

/** The same task with fewer retries left (a retry keeps its id and kwargs bytes). */
export function withRetries(task: Task, numRetries: number): Task {
  assertRetries(numRetries);
  return { ...task, numRetries };
}

function field(body: Record<string, unknown>, name: string): unknown {
  if (!(name in body)) throw new InvalidTaskError(`missing field "${name}"`);
  return body[name];
}

/** Reads a message body (version 1, or version 0 without reply_requested). */
export function parseTask(text: string): Task {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidTaskError('message body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidTaskError('message body is not a JSON object');
  }
  const record = body as Record<string, unknown>;
  const version = field(record, 'version');
  if (version !== 0 && version !== 1) {
    throw new InvalidTaskError(`unknown task version ${JSON.stringify(version)}`);
  }
  const replyRequested = version === 0 ? false : field(record, 'reply_requested');
  if (typeof replyRequested !== 'boolean') throw new InvalidTaskError('reply_requested must be a boolean');
  const kwargsJson = field(record, 'kwargs');
  if (typeof kwargsJson !== 'string') throw new InvalidTaskError('kwargs must be a JSON string');
  let kwargs: unknown;
  try {
    kwargs = JSON.parse(kwargsJson);
  } catch {
    throw new InvalidTaskError('kwargs is not valid JSON');
  }
  assertPlainObject(kwargs);
  const numRetries = field(record, 'num_retries');
  if (typeof numRetries !== 'number') throw new InvalidTaskError('num_retries must be a number');
  assertRetries(numRetries);
  const id = field(record, 'id');
  if (typeof id !== 'string' || id === '') throw new InvalidTaskError('id must be a non-empty string');
  // `-0` is read as 0, as Python reads it: a retry writes it back as 0.
  return { id, kwargsJson, kwargs, numRetries: numRetries + 0, replyRequested };
}
