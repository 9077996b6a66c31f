/**
 * Runs inside each piscina thread of the function processor (SPEC §8). The
 * thread imports the task module once; each piscina task calls its function
 * with the kwargs and a context, sends one `log` message per `ctx.log` call
 * over the thread's `parentPort`, and returns a report: the outcome and how
 * many `log`s it sent (the main thread waits for them all).
 *
 * A task starts with its ctx.signal aborted when its stop flag is already
 * set (function-messages.ts); while it runs, the stop broadcast reaches it.
 * The task is made current before the flag is read, and the main thread sets
 * the flag before it broadcasts, so a stop is either seen at the start or
 * heard while running.
 *
 * Only `ctx.log` is captured; `console.log` in a thread goes to the process's
 * own stdout, unprefixed, as in any worker thread.
 */
import { inspect } from 'node:util';
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import {
  isStopMessage,
  isTaskPayload,
  isThreadSetup,
  type FunctionOutcome,
  type TaskReport,
  type ThreadMessage,
} from './function-messages.js';

/** What a task function gets besides its kwargs. */
export interface FunctionTaskContext {
  /** Fires when the worker stops the task (SPEC §6.1): checkpoint and return, or throw. */
  readonly signal: AbortSignal;
  readonly taskId: string;
  /** One line of output: strings as they are, other values inspected, joined with spaces. */
  log(...args: unknown[]): void;
}

export type TaskFunction = (kwargs: Record<string, unknown>, ctx: FunctionTaskContext) => unknown;

if (!isThreadSetup(workerData) || !parentPort) {
  throw new Error('jobq: function-thread.js runs only as a thread of the function processor');
}
const setup = workerData;
const port = parentPort;

async function loadFunction(): Promise<TaskFunction> {
  const namespace = (await import(setup.moduleUrl)) as Record<string, unknown>;
  const fn = namespace[setup.exportName];
  if (typeof fn !== 'function') throw new TypeError(`${setup.moduleUrl}: export "${setup.exportName}" is not a function`);
  return fn as TaskFunction;
}

/** The task function, imported once per thread. */
const loaded = loadFunction();
// Each task awaits `loaded` and reports its failure; this only keeps an early
// rejection from counting as unhandled before the first task.
loaded.catch(() => undefined);

/** The task running on this thread (one at a time), with the controller of its ctx.signal. */
class ThreadTasks {
  private current: { readonly key: number; readonly controller: AbortController } | undefined;

  constructor(private readonly stopFlags: Int32Array) {}

  /** The task `key` starts; its ctx.signal (already aborted when it was asked to stop). */
  start(key: number): AbortSignal {
    const controller = new AbortController();
    this.current = { key, controller };
    if (Atomics.load(this.stopFlags, key % this.stopFlags.length) === key) controller.abort();
    return controller.signal;
  }

  /** A stop for the task `key`, wherever it runs. */
  stopHeard(key: number): void {
    if (key === this.current?.key) this.current.controller.abort();
  }

  isRunning(key: number): boolean {
    return this.current?.key === key;
  }

  end(): void {
    this.current = undefined;
  }
}

const tasks = new ThreadTasks(setup.stopFlags);

/** Stop requests by task key, for every thread; unref'd so it never keeps a thread alive. */
const stops = new BroadcastChannel(setup.stopChannel);
stops.onmessage = (event: Event): void => {
  const data: unknown = (event as MessageEvent).data;
  if (isStopMessage(data)) tasks.stopHeard(data.key);
};
stops.unref();

function describe(value: unknown): string {
  try {
    return value instanceof Error ? value.message : String(value);
  } catch {
    return inspect(value);
  }
}

function failure(err: unknown): FunctionOutcome {
  const stack = err instanceof Error ? err.stack : undefined;
  return stack === undefined ? { ok: false, error: describe(err) } : { ok: false, error: describe(err), detail: stack };
}

function format(args: readonly unknown[]): string {
  return args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' ');
}

/**
 * The outcome of a returned value. A result that cannot be cloned would make
 * piscina's reply throw and take the thread down: it becomes a failure. Only
 * objects need the check (a structured clone of them).
 */
function returned(result: unknown): FunctionOutcome {
  if ((typeof result === 'object' && result !== null) || typeof result === 'function' || typeof result === 'symbol') {
    try {
      structuredClone(result);
    } catch (err) {
      return { ok: false, error: `result is not structured-cloneable: ${describe(err)}` };
    }
  }
  return { ok: true, result };
}

/** The piscina task: runs one task; its `log`s are posted before it returns. */
export default async function runTask(payload: unknown): Promise<TaskReport> {
  if (!isTaskPayload(payload)) throw new TypeError('jobq: malformed task payload');
  const { key, taskId } = payload;
  let logs = 0;
  const ctx: FunctionTaskContext = {
    signal: tasks.start(key),
    taskId,
    log: (...args) => {
      // Lines logged after the task ended (a forgotten timer) belong to no task.
      if (!tasks.isRunning(key)) return;
      port.postMessage({ kind: 'log', key, text: format(args) } satisfies ThreadMessage);
      logs += 1;
    },
  };
  let outcome: FunctionOutcome;
  try {
    const fn = await loaded;
    const kwargs = JSON.parse(payload.kwargsJson) as Record<string, unknown>;
    outcome = returned(await fn(kwargs, ctx));
  } catch (err) {
    outcome = failure(err);
  } finally {
    tasks.end();
  }
  return { outcome, logs };
}
