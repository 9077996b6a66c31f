/**
 * Function tasks (SPEC §8): each task's kwargs go through an exported function
 * of a module, on a piscina pool of `numWorkers` threads.
 *
 * A task's handle moves through: running (queued in piscina, or on a
 * thread) → reported (its piscina run returned the outcome; `log` messages
 * may still be on their way) → ended. `stop()` sets the task's stop flag and
 * broadcasts it (function-messages.ts): a thread that starts the task later
 * sees the flag, so a stop is never lost to the race with piscina's dispatch.
 * The task ends with the first of: its report once all the `log`s it counts
 * have arrived, or the rejection of its piscina run (killed by `kill()`, or
 * the thread died).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { withoutSecrets } from '../../backends/secrets.js';
import { describeValue, errorMessage, UsageError } from '../../errors.js';
import {
  isTaskReport,
  isThreadMessage,
  type StopMessage,
  type TaskPayload,
  type TaskReport,
  type ThreadMessage,
  type ThreadSetup,
} from './function-messages.js';
import { splitModuleSpec } from '../module-spec.js';
import type { Processor, RunningTask, TaskContext, TaskOutcome } from '../processor.js';

export type { FunctionTaskContext, TaskFunction } from './function-thread.js';

export interface FunctionProcessorOptions {
  /** `PATH` (the default export) or `PATH#exportName`; PATH is resolved against the current directory. */
  module: string;
  /** Threads in the pool: as many as the worker's task slots. */
  numWorkers: number;
  /** Where a thread's failure outside any task is reported (default: a process warning). */
  warn?: (message: string) => void;
}

function processWarning(message: string): void {
  process.emitWarning(message, { code: 'JOBQ_FUNCTION_THREAD' });
}

/** Threads stay up for the processor's whole life (piscina's idle timeout, ms). */
const idleTimeoutMs = 2 ** 31 - 1;

const threadFile = new URL('./function-thread.js', import.meta.url);

/** Stop flags shared with the threads (16 KiB): far more than the tasks ever in flight. */
const stopFlagSlots = 4096;
/** Task keys wrap here, to fit the stop flags' Int32Array. */
const keyLimit = 2 ** 31;

/**
 * A processor that runs tasks through a module's function on worker threads.
 * Throws a UsageError when the module cannot be imported or the export is not a function.
 */
export async function createFunctionProcessor(options: FunctionProcessorOptions): Promise<Processor> {
  if (!Number.isSafeInteger(options.numWorkers) || options.numWorkers < 1) {
    throw new UsageError(`numWorkers must be an integer of at least 1, got ${options.numWorkers}`);
  }
  const { moduleUrl, exportName } = await checkModule(options.module);
  const stopFlags = new Int32Array(new SharedArrayBuffer(stopFlagSlots * Int32Array.BYTES_PER_ELEMENT)).fill(-1);
  const setup: ThreadSetup = { moduleUrl, exportName, stopChannel: `jobq-stop-${randomUUID()}`, stopFlags };
  return new FunctionProcessor(options.module, setup, options.numWorkers, options.warn ?? processWarning);
}

/** Imports the module in the main thread, so that a bad `--proc` fails before any task is leased. */
async function checkModule(spec: string): Promise<{ moduleUrl: string; exportName: string }> {
  const { file, exportName = 'default' } = splitModuleSpec(spec);
  if (file === '' || exportName === '') {
    throw new UsageError(`invalid function module "${spec}": expected PATH or PATH#exportName`);
  }
  const absolute = path.resolve(file);
  const found = await stat(absolute).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (!found) throw new UsageError(`function module ${absolute}: file not found`);
  const moduleUrl = pathToFileURL(absolute).href;
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(moduleUrl)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`function module ${absolute}: not a module that can be imported: ${errorMessage(err)}`, { cause: err });
  }
  if (!(exportName in namespace)) {
    const hint = exportName === 'default' ? '; name one with PATH#exportName' : '';
    throw new UsageError(`function module ${absolute}: no export "${exportName}"${hint}`);
  }
  const fn = namespace[exportName];
  if (typeof fn !== 'function') {
    throw new UsageError(`function module ${absolute}: export "${exportName}" is not a function (it is ${describeValue(fn)})`);
  }
  return { moduleUrl, exportName };
}

const killedOutcome: TaskOutcome = { ok: false, error: 'killed' };

/** The main thread's side of one task. */
class FunctionTask implements RunningTask {
  readonly done: Promise<TaskOutcome>;
  private resolve!: (outcome: TaskOutcome) => void;
  /**
   * Piscina's abort signal for this run: an 'abort' event terminates the
   * thread. An EventEmitter (which piscina takes as well) costs a fraction of
   * an AbortController, and one is made for every task.
   */
  readonly killSignal = new EventEmitter();
  private killed = false;
  private stopRequested = false;
  private logsReceived = 0;
  /** The run's report while `log` messages it counts are still on their way. */
  private report: TaskReport | undefined;
  private ended = false;

  constructor(
    readonly key: number,
    private readonly context: TaskContext,
    private readonly requestStop: (key: number) => void,
    private readonly forget: (key: number) => void,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  stop(): void {
    if (this.ended || this.stopRequested) return;
    this.stopRequested = true;
    this.requestStop(this.key);
  }

  kill(): void {
    if (this.ended || this.killed) return;
    this.killed = true;
    this.killSignal.emit('abort');
  }

  onLog(message: ThreadMessage): void {
    for (const line of message.text.split(/\r?\n/)) this.log(line);
    this.logsReceived += 1;
    if (this.report && this.logsReceived >= this.report.logs) this.end(this.report.outcome);
  }

  /** The piscina run returned: the function has returned or thrown. */
  onReport(report: unknown): void {
    if (!isTaskReport(report)) {
      this.end({ ok: false, error: "the task's thread sent a malformed report" });
    } else if (this.logsReceived >= report.logs) {
      this.end(report.outcome);
    } else {
      this.report = report;
    }
  }

  /** The piscina run failed: the thread was terminated by `kill()`, or it died. */
  onRunFailed(err: unknown): void {
    if (this.killed) this.end(killedOutcome);
    else this.end({ ok: false, error: `the task's thread failed: ${errorMessage(err)}` });
  }

  private log(line: string): void {
    try {
      this.context.log(line, 'stdout');
    } catch {
      // The worker's log sink failing must not take the pool's message handler down.
    }
  }

  private end(outcome: TaskOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.forget(this.key);
    this.resolve(outcome);
  }
}

class FunctionProcessor implements Processor {
  private readonly pool: Piscina<TaskPayload, unknown>;
  /**
   * Stop requests to every thread. Ref'd while tasks are in flight: piscina
   * unrefs a thread as soon as its run returns, and a task's `log` messages
   * may still be on their way; without this the process could exit before them.
   */
  private readonly stops: BroadcastChannel;
  private readonly stopFlags: Int32Array;
  private readonly tasks = new Map<number, FunctionTask>();
  private nextKey = 0;
  private closing: Promise<void> | undefined;

  constructor(
    readonly name: string,
    setup: ThreadSetup,
    numWorkers: number,
    warn: (message: string) => void,
  ) {
    this.stopFlags = setup.stopFlags;
    this.stops = new BroadcastChannel(setup.stopChannel);
    this.stops.unref();
    this.pool = new Piscina({
      filename: threadFile.href,
      minThreads: numWorkers,
      maxThreads: numWorkers,
      idleTimeout: idleTimeoutMs,
      concurrentTasksPerWorker: 1,
      workerData: setup,
      // Threads share the process, so this only keeps the secrets out of their process.env (see the README).
      env: withoutSecrets(process.env),
    });
    this.pool.on('message', (message: unknown) => {
      if (isThreadMessage(message)) this.tasks.get(message.key)?.onLog(message);
    });
    // A thread that fails outside any task (an unhandled rejection a task left
    // behind) is replaced by piscina; without a listener the event would crash the process.
    this.pool.on('error', (err: unknown) => warn(`a function thread failed outside any task and was replaced: ${errorMessage(err)}`));
  }

  start(context: TaskContext): RunningTask {
    const key = this.nextKey;
    this.nextKey = (key + 1) % keyLimit;
    const task = new FunctionTask(
      key,
      context,
      (stopKey) => this.requestStop(stopKey),
      (doneKey) => this.forget(doneKey),
    );
    if (this.tasks.size === 0) this.stops.ref();
    this.tasks.set(key, task);
    const payload: TaskPayload = { key, taskId: context.task.id, kwargsJson: context.task.kwargsJson };
    this.pool.run(payload, { signal: task.killSignal }).then(
      (report) => task.onReport(report),
      (err: unknown) => task.onRunFailed(err),
    );
    return task;
  }

  /** The flag first: a thread that starts the task from now on sees it; one running it hears the broadcast. */
  private requestStop(key: number): void {
    Atomics.store(this.stopFlags, key % this.stopFlags.length, key);
    this.stops.postMessage({ kind: 'stop', key } satisfies StopMessage);
  }

  private forget(key: number): void {
    this.tasks.delete(key);
    if (this.tasks.size === 0) this.stops.unref();
  }

  /**
   * Destroys the pool (terminating its threads; a task still running ends as
   * failed); calling it again returns the same promise. The stop channel closes
   * last, whatever happens, so a `stop()` during the destroy still has it.
   */
  close(): Promise<void> {
    this.closing ??= this.pool.destroy().finally(() => this.stops.close());
    return this.closing;
  }
}
