/**
 * The messages between the function processor (main thread) and its threads
 * (STYLE §9): TypeScript types, each with a guard that checks the shape at
 * runtime, since a structured clone crosses a boundary the compiler cannot see.
 *
 * Each thread has one channel, its own port, and runs one task at a time:
 * - `ThreadSetup` goes to every thread once, as its `workerData`.
 * - `RunMessage` (one per task) and `StopMessage` go to the thread; a run
 *   says whether the task was asked to stop before it was handed over, and a
 *   stop that comes later follows it on the same port, so none is lost.
 * - `LogMessage`s (one per `ctx.log` call) and then one report come back on
 *   the same port: they arrive in order, so once the report is in, every
 *   line of the task has been delivered. A task that logs nothing costs one
 *   message each way. The report of a function that returned nothing (most
 *   do) is its key alone (`ReturnedNothing`): an object costs the main thread
 *   about 2 µs more to receive, a fifth of what a bare round trip costs it.
 */

export interface ThreadSetup {
  /** The module's file URL. */
  readonly moduleUrl: string;
  /** The export to call (`default` unless the spec names one). */
  readonly exportName: string;
}

export interface RunMessage {
  readonly kind: 'run';
  /** The processor's key for this run of the task (task ids may repeat). */
  readonly key: number;
  readonly taskId: string;
  /** The kwargs as JSON text: cheaper to clone than an object, parsed in the thread. */
  readonly kwargsJson: string;
  /** The task was asked to stop before the thread got it: its ctx.signal starts aborted. */
  readonly stopped: boolean;
}

export interface StopMessage {
  readonly kind: 'stop';
  readonly key: number;
}

/** What a function's run came to, as it crosses back to the main thread. */
export type FunctionOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string; readonly detail?: string };

/** One `ctx.log` call, formatted. */
export interface LogMessage {
  readonly kind: 'log';
  readonly key: number;
  readonly text: string;
}

/** The function has returned or thrown. */
export interface ReportMessage {
  readonly kind: 'report';
  readonly key: number;
  readonly outcome: FunctionOutcome;
}

/** The function returned undefined: the report is its key alone. */
export type ReturnedNothing = number;

export type ThreadMessage = LogMessage | ReportMessage | ReturnedNothing;

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

function isKey(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function isThreadSetup(value: unknown): value is ThreadSetup {
  return isRecord(value) && typeof value['moduleUrl'] === 'string' && typeof value['exportName'] === 'string';
}

export function isRunMessage(value: unknown): value is RunMessage {
  return (
    isRecord(value) &&
    value['kind'] === 'run' &&
    isKey(value['key']) &&
    typeof value['taskId'] === 'string' &&
    typeof value['kwargsJson'] === 'string' &&
    typeof value['stopped'] === 'boolean'
  );
}

export function isStopMessage(value: unknown): value is StopMessage {
  return isRecord(value) && value['kind'] === 'stop' && isKey(value['key']);
}

function isOutcome(value: unknown): value is FunctionOutcome {
  if (!isRecord(value)) return false;
  if (value['ok'] === true) return 'result' in value;
  return (
    value['ok'] === false &&
    typeof value['error'] === 'string' &&
    (!('detail' in value) || typeof value['detail'] === 'string')
  );
}

export function isThreadMessage(value: unknown): value is ThreadMessage {
  if (isKey(value)) return true;
  if (!isRecord(value) || !isKey(value['key'])) return false;
  if (value['kind'] === 'log') return typeof value['text'] === 'string';
  return value['kind'] === 'report' && isOutcome(value['outcome']);
}
