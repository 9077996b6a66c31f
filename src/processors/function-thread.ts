/**
 * Runs inside each piscina thread of the function processor (SPEC §8). The
 * thread imports the task module once; each piscina task calls its function
 * with the kwargs and a context, and reports over the thread's `parentPort`:
 * `started` (stops are heard from now on), one `log` per `ctx.log` call, then
 * `ended` with the outcome. The outcome travels on the same port as the logs,
 * so the main thread has every line of a task before it learns that it ended.
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

/** Stop requests by task key, for every thread; unref'd so it never keeps a thread alive. */
const stops = new BroadcastChannel(setup.stopChannel);
stops.unref();

function post(message: ThreadMessage): void {
  port.postMessage(message);
}

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

/** Sends the outcome; a result that cannot be cloned becomes a failure instead of a crash. */
function postEnded(key: number, outcome: FunctionOutcome): void {
  try {
    post({ kind: 'ended', key, outcome });
  } catch (err) {
    post({ kind: 'ended', key, outcome: { ok: false, error: `result is not structured-cloneable: ${describe(err)}` } });
  }
}

/** The piscina task: runs one task and posts its `ended` before returning. */
export default async function runTask(payload: unknown): Promise<void> {
  if (!isTaskPayload(payload)) throw new TypeError('jobq: malformed task payload');
  const { key, taskId } = payload;
  const controller = new AbortController();
  const onStop = (event: Event): void => {
    const data: unknown = (event as MessageEvent).data;
    if (isStopMessage(data) && data.key === key) controller.abort();
  };
  stops.addEventListener('message', onStop);
  let running = true;
  const ctx: FunctionTaskContext = {
    signal: controller.signal,
    taskId,
    log: (...args) => {
      // Lines logged after the task ended (a forgotten timer) belong to no task.
      if (running) post({ kind: 'log', key, text: format(args) });
    },
  };
  post({ kind: 'started', key });
  let outcome: FunctionOutcome;
  try {
    const fn = await loaded;
    const kwargs = JSON.parse(payload.kwargsJson) as Record<string, unknown>;
    outcome = { ok: true, result: await fn(kwargs, ctx) };
  } catch (err) {
    outcome = failure(err);
  } finally {
    running = false;
    stops.removeEventListener('message', onStop);
  }
  postEnded(key, outcome);
}
