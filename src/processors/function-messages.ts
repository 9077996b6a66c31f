/**
 * The messages between the function processor (main thread) and its piscina
 * threads (STYLE §9): TypeScript types, each with a guard that checks the shape
 * at runtime, since a structured clone crosses a boundary the compiler cannot see.
 *
 * Channels:
 * - `ThreadSetup` goes to every thread once, as piscina's `workerData`.
 * - `TaskPayload` is the piscina task: one per task.
 * - `ThreadMessage`s go from a thread to the main thread on the thread's
 *   `parentPort` (piscina re-emits them as the pool's `message` event). They
 *   share one ordered channel per thread, so every `log` of a task arrives
 *   before its `ended`.
 * - `StopMessage`s go from the main thread to every thread on a
 *   BroadcastChannel: the main thread does not know which thread runs a task,
 *   and stops are rare, so a broadcast by task key is cheaper than a channel
 *   per task.
 */

export interface ThreadSetup {
  /** The module's file URL. */
  readonly moduleUrl: string;
  /** The export to call (`default` unless the spec names one). */
  readonly exportName: string;
  /** The BroadcastChannel's name for stop messages. */
  readonly stopChannel: string;
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

export type ThreadMessage =
  /** The thread listens for stops of this task from now on. */
  | { readonly kind: 'started'; readonly key: number }
  /** One `ctx.log` call, formatted. */
  | { readonly kind: 'log'; readonly key: number; readonly text: string }
  /** The function has returned or thrown; nothing more comes for this key. */
  | { readonly kind: 'ended'; readonly key: number; readonly outcome: FunctionOutcome };

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
    typeof value['stopChannel'] === 'string'
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

export function isThreadMessage(value: unknown): value is ThreadMessage {
  if (!isRecord(value) || !isKey(value['key'])) return false;
  switch (value['kind']) {
    case 'started':
      return true;
    case 'log':
      return typeof value['text'] === 'string';
    case 'ended':
      return isOutcome(value['outcome']);
    default:
      return false;
  }
}

export function isStopMessage(value: unknown): value is StopMessage {
  return isRecord(value) && value['kind'] === 'stop' && isKey(value['key']);
}
