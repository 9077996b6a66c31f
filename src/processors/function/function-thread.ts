/**
 * Runs inside each thread of the function processor (SPEC §8). The thread
 * imports the task module once; each `run` message calls its function with
 * the kwargs and a context, sends one `log` message per `ctx.log` call, then
 * one `report` with the outcome, all on the thread's port (function-messages.ts).
 * A run that comes while a task runs waits here, and starts as soon as that
 * task has reported: the thread goes from one to the next without waiting
 * for the main thread. A waiting run that is stopped or reclaimed is dropped,
 * unstarted, and the thread says so.
 *
 * A stop that comes while a task runs aborts its ctx.signal (or, before the
 * function first reads the signal, the signal is then aborted from the start).
 *
 * Only `ctx.log` is captured; `console.log` in a thread goes to the process's
 * own stdout, unprefixed, as in any worker thread.
 */
import { inspect } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import {
  isReclaimMessage,
  isRunMessage,
  isStopMessage,
  isThreadSetup,
  type DroppedMessage,
  type FunctionOutcome,
  type LogMessage,
  type ReportMessage,
  type ReturnedNothing,
  type RunMessage,
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

/**
 * A task's stop, as its ctx.signal. The AbortController is made only when the
 * function reads the signal: most never do, and one costs more than the rest
 * of a no-op task's run.
 */
class TaskStop {
  private controller: AbortController | undefined;

  private stopped = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort();
    }
    return this.controller.signal;
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}

/** The task running on this thread (one at a time), with its stop. */
let current: { readonly key: number; readonly stop: TaskStop } | undefined;
/** Runs handed over while a task runs, in order. */
const waiting: RunMessage[] = [];

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
 * Sends the outcome. A result that cannot be cloned makes `postMessage` throw
 * before anything is sent: the task fails instead, and the thread goes on.
 */
function report(key: number, outcome: FunctionOutcome): void {
  if (outcome.ok && outcome.result === undefined) {
    port.postMessage(key satisfies ReturnedNothing);
    return;
  }
  try {
    port.postMessage({ kind: 'report', key, outcome } satisfies ReportMessage);
  } catch (err) {
    const error = `result is not structured-cloneable: ${describe(err)}`;
    port.postMessage({ kind: 'report', key, outcome: { ok: false, error } } satisfies ReportMessage);
  }
}

/** Runs one task: its `log`s are posted before its report. */
async function run(message: RunMessage): Promise<void> {
  const { key, taskId } = message;
  const stop = new TaskStop();
  const task = { key, stop };
  current = task;
  const ctx: FunctionTaskContext = {
    get signal() {
      return stop.signal;
    },
    taskId,
    log: (...args) => {
      // Lines logged after the task ended (a forgotten timer) belong to no task.
      if (current !== task) return;
      port.postMessage({ kind: 'log', key, text: format(args) } satisfies LogMessage);
    },
  };
  let outcome: FunctionOutcome;
  try {
    const fn = await loaded;
    const kwargs = JSON.parse(message.kwargsJson) as Record<string, unknown>;
    outcome = { ok: true, result: await fn(kwargs, ctx) };
  } catch (err) {
    outcome = failure(err);
  }
  current = undefined;
  report(key, outcome);
  const next = waiting.shift();
  if (next) void run(next);
}

/** Drops the waiting run of `key`, if it waits; says so to the main thread. */
function drop(key: number): void {
  const index = waiting.findIndex((message) => message.key === key);
  if (index === -1) return;
  waiting.splice(index, 1);
  port.postMessage({ kind: 'dropped', key } satisfies DroppedMessage);
}

port.on('message', (message: unknown) => {
  if (isRunMessage(message)) {
    if (current) waiting.push(message);
    else void run(message);
  } else if (isStopMessage(message)) {
    if (message.key === current?.key) current.stop.stop();
    else drop(message.key);
  } else if (isReclaimMessage(message)) drop(message.key);
});
