/**
 * The messages between the function processor (main thread) and its piscina
 * threads (STYLE §9): TypeScript types, each with a guard that checks the shape
 * at runtime, since a structured clone crosses a boundary the compiler cannot see.
 *
 * Channels:
 * - `ThreadSetup` goes to every thread once, as piscina's `workerData`.
 * - `TaskPayload` is the piscina task: one per task; `TaskReport` is what the
 *   piscina run returns, once the function has returned or thrown.
 * - `ThreadMessage`s (one per `ctx.log` call) go from a thread to the main
 *   thread on the thread's `parentPort` (piscina re-emits them as the pool's
 *   `message` event). That is another channel than piscina's, so the report
 *   says how many were sent and the main thread waits for all of them before
 *   it ends the task. A task that logs nothing costs no message of its own.
 * - A stop is written into `ThreadSetup.stopFlags` (shared memory) and then
 *   broadcast as a `StopMessage` to every thread on a BroadcastChannel: the
 *   main thread does not know which thread runs a task, and stops are rare,
 *   so a broadcast by task key is cheaper than a channel per task. A thread
 *   looks at the flags when it starts a task (the stop came first: its
 *   thread may not even have listened yet) and listens while it runs.
 */

export interface ThreadSetup {
  /** The module's file URL. */
  readonly moduleUrl: string;
  /** The export to call (`default` unless the spec names one). */
  readonly exportName: string;
  /** The BroadcastChannel's name for stop messages. */
  readonly stopChannel: string;
  /**
   * Shared: slot `key % length` holds `key` once the task `key` was asked to
   * stop (-1 at first). Task keys wrap below 2^31; slots are reused only by a
   * key `length` tasks later, far more than are ever in flight at once.
   */
  readonly stopFlags: Int32Array;
}

export interface TaskPayload {
  /** The processor's key for this run of the task (task ids may repeat). */
  readonly key: number;
  readonly taskId: string;
  /** The kwargs as JSON text: cheaper to clone than an object, parsed in the thread. */
  readonly kwargsJson: string;
}

/** What a function's run came to, as it crosses back to the main thread. */
export type FunctionOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: string; readonly detail?: string };

/** What a piscina run returns: the outcome, and how many `log` messages the task sent before it. */
export interface TaskReport {
  readonly outcome: FunctionOutcome;
  readonly logs: number;
}

/** One `ctx.log` call, formatted. */
export interface ThreadMessage {
  readonly kind: 'log';
  readonly key: number;
  readonly text: string;
}

export interface StopMessage {
  readonly kind: 'stop';
  readonly key: number;
}

type Fields = Record<string, unknown>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

function isKey(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function isThreadSetup(value: unknown): value is ThreadSetup {
  return (
    isRecord(value) &&
    typeof value['moduleUrl'] === 'string' &&
    typeof value['exportName'] === 'string' &&
    typeof value['stopChannel'] === 'string' &&
    value['stopFlags'] instanceof Int32Array
  );
}

export function isTaskPayload(value: unknown): value is TaskPayload {
  return (
    isRecord(value) && isKey(value['key']) && typeof value['taskId'] === 'string' && typeof value['kwargsJson'] === 'string'
  );
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

export function isTaskReport(value: unknown): value is TaskReport {
  return isRecord(value) && isOutcome(value['outcome']) && isKey(value['logs']);
}

export function isThreadMessage(value: unknown): value is ThreadMessage {
  return isRecord(value) && value['kind'] === 'log' && isKey(value['key']) && typeof value['text'] === 'string';
}

export function isStopMessage(value: unknown): value is StopMessage {
  return isRecord(value) && value['kind'] === 'stop' && isKey(value['key']);
}
