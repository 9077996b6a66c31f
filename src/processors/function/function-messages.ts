/**
 * The messages between the function processor (main thread) and its threads
 * (STYLE §9): TypeScript types, each with a guard that checks the shape at
 * runtime, since a structured clone crosses a boundary the compiler cannot see.
 *
 * Each thread has one channel, its own port, and runs one task at a time:
 * - `ThreadSetup` goes to every thread once, as its `workerData`.
 * - `RunMessage` (one per task) and `StopMessage` go to the thread (a task
 *   stopped before it is handed over never is), a stop after its run on the
 *   same port, so none is lost. A run may come while another task runs: it
 *   waits in the thread. A stop of a waiting run, or a `ReclaimMessage` (the
 *   main thread wants it back for another thread), drops it unstarted, and a
 *   `DroppedMessage` says so; a reclaim of a run that has started changes
 *   nothing.
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
}

export interface StopMessage {
  readonly kind: 'stop';
  readonly key: number;
}

/** Give back a run that still waits; one that has started runs on. */
export interface ReclaimMessage {
  readonly kind: 'reclaim';
  readonly key: number;
}

/** A waiting run was dropped unstarted (stopped or reclaimed). */
export interface DroppedMessage {
  readonly kind: 'dropped';
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

export type ThreadMessage = LogMessage | ReportMessage | DroppedMessage | ReturnedNothing;

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
    typeof value['kwargsJson'] === 'string'
  );
}

export function isStopMessage(value: unknown): value is StopMessage {
  return isRecord(value) && value['kind'] === 'stop' && isKey(value['key']);
}

export function isReclaimMessage(value: unknown): value is ReclaimMessage {
  return isRecord(value) && value['kind'] === 'reclaim' && isKey(value['key']);
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
  if (value['kind'] === 'dropped') return true;
  return value['kind'] === 'report' && isOutcome(value['outcome']);
}
