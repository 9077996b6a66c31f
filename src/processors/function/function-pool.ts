/**
 * The threads of the function processor, and the task handles they run.
 *
 * Each thread runs one task at a time, handed to it as one message on its
 * own port (function-messages.ts); its report comes back on the same port,
 * after the task's log lines. A task waits in a queue only while every thread
 * is busy (or still starting after a kill): the main thread hands a task
 * straight to an idle thread, which costs one message each way and nothing
 * else, a fraction of what a general-purpose pool (piscina) spends on a run.
 *
 * A task's handle moves through: queued → running on a thread → ended. A
 * stop reaches a queued task when it is handed over (its run says so) and a
 * running one as a message after its run. A kill ends a queued task at once
 * and terminates the thread of a running one, which is replaced; so does a
 * thread that dies by itself (an uncaught error, `process.exit`), failing the
 * task it ran. A busy thread keeps the process alive; an idle one does not.
 */
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import { isThreadMessage, type RunMessage, type StopMessage, type ThreadMessage, type ThreadSetup } from './function-messages.js';
import type { RunningTask, TaskContext, TaskOutcome } from '../processor.js';

export interface PoolOptions {
  readonly setup: ThreadSetup;
  readonly threads: number;
  /** The environment of the threads' `process.env`. */
  readonly env: NodeJS.ProcessEnv;
  /** Where a thread's failure outside any task is reported. */
  readonly warn: (message: string) => void;
}

const threadFile = new URL('./function-thread.js', import.meta.url);

/** Task keys wrap here: far more than are ever in flight at once. */
const keyLimit = 2 ** 31;

const killedOutcome: TaskOutcome = { ok: false, error: 'killed' };
const nothingReturned: TaskOutcome = { ok: true, result: undefined };
const closedOutcome: TaskOutcome = { ok: false, error: "the task's thread failed: the function processor was closed" };

/** The main thread's side of one task. */
class FunctionTask implements RunningTask {
  readonly done: Promise<TaskOutcome>;
  private resolve!: (outcome: TaskOutcome) => void;
  /** The thread that runs it, once handed over. */
  thread: PoolThread | undefined;
  stopRequested = false;
  private ended = false;

  constructor(
    readonly key: number,
    readonly context: TaskContext,
    private readonly pool: FunctionPool,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  get isOver(): boolean {
    return this.ended;
  }

  stop(): void {
    if (this.ended || this.stopRequested) return;
    this.stopRequested = true;
    this.thread?.post({ kind: 'stop', key: this.key } satisfies StopMessage);
  }

  kill(): void {
    if (this.ended) return;
    this.pool.kill(this);
  }

  onLog(text: string): void {
    for (const line of text.split(/\r?\n/)) {
      try {
        this.context.log(line, 'stdout');
      } catch {
        // The worker's log sink failing must not take the thread's message handler down.
      }
    }
  }

  end(outcome: TaskOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.thread = undefined;
    this.resolve(outcome);
  }
}

/** One thread and the task it runs. */
class PoolThread {
  private readonly worker: Worker;
  private task: FunctionTask | undefined;
  /** Terminated on purpose (a kill, the pool's close): its exit is no failure. */
  retired = false;

  constructor(
    options: PoolOptions,
    private readonly pool: FunctionPool,
  ) {
    this.worker = new Worker(threadFile, { workerData: options.setup, env: options.env });
    // Never keeps the process alive by itself: the pool does while a task runs.
    this.worker.unref();
    this.worker.on('message', (message: unknown) => {
      if (isThreadMessage(message)) this.received(message);
    });
    this.worker.on('error', (err: unknown) => this.failed(err));
    this.worker.on('exit', (code: number) => this.exited(code));
  }

  post(message: RunMessage | StopMessage): void {
    this.worker.postMessage(message);
  }

  /** The task it runs; the pool counts the busy threads as this changes. */
  get running(): FunctionTask | undefined {
    return this.task;
  }

  set running(task: FunctionTask | undefined) {
    if ((task === undefined) !== (this.task === undefined)) this.pool.busy(task === undefined ? -1 : 1);
    this.task = task;
  }

  run(task: FunctionTask): void {
    this.running = task;
    task.thread = this;
    const { key, context } = task;
    this.post({ kind: 'run', key, taskId: context.task.id, kwargsJson: context.task.kwargsJson, stopped: task.stopRequested });
  }

  retire(): Promise<number> {
    this.retired = true;
    return this.worker.terminate();
  }

  private received(message: ThreadMessage): void {
    const task = this.running;
    const returnedNothing = typeof message === 'number';
    // A message of a task that has ended (killed meanwhile) is dropped.
    if (task?.key !== (returnedNothing ? message : message.key)) return;
    if (!returnedNothing && message.kind === 'log') {
      task.onLog(message.text);
      return;
    }
    this.running = undefined;
    this.pool.idle(this);
    task.end(returnedNothing ? nothingReturned : message.outcome);
  }

  /** An error thrown outside the task's promise (a timer's): the thread exits after it. */
  private failed(err: unknown): void {
    if (this.retired) return;
    const task = this.running;
    this.running = undefined;
    if (task) task.end({ ok: false, error: `the task's thread failed: ${errorMessage(err)}` });
    else this.pool.warn(`a function thread failed outside any task and was replaced: ${errorMessage(err)}`);
  }

  private exited(code: number): void {
    if (this.retired) return;
    this.running?.end({ ok: false, error: `the task's thread exited with code ${code}` });
    this.running = undefined;
    this.pool.replace(this);
  }
}

export class FunctionPool {
  private threads: PoolThread[] = [];
  private idleThreads: PoolThread[] = [];
  private readonly queued: FunctionTask[] = [];
  private nextKey = 0;
  private closing: Promise<void> | undefined;
  /** Threads running a task, and what keeps the process alive while there are any. */
  private busyThreads = 0;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < options.threads; i += 1) this.add();
  }

  start(context: TaskContext): RunningTask {
    const task = new FunctionTask(this.nextKey, context, this);
    this.nextKey = (this.nextKey + 1) % keyLimit;
    if (this.closing) {
      task.end(closedOutcome);
      return task;
    }
    const thread = this.idleThreads.pop();
    if (thread) thread.run(task);
    else this.queued.push(task);
    return task;
  }

  /**
   * A thread took a task (1) or is done with it (-1). One timer keeps the
   * process alive while any thread is busy: a ref and an unref of the
   * thread for every task cost the main thread more.
   */
  busy(change: 1 | -1): void {
    this.busyThreads += change;
    if (this.busyThreads > 0) this.keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    else {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  warn(message: string): void {
    this.options.warn(message);
  }

  /** A thread is free: it takes the next queued task, if any. */
  idle(thread: PoolThread): void {
    let task = this.queued.shift();
    while (task?.isOver) task = this.queued.shift();
    if (task) thread.run(task);
    else this.idleThreads.push(thread);
  }

  kill(task: FunctionTask): void {
    const thread = task.thread;
    task.end(killedOutcome);
    if (!thread) return;
    thread.running = undefined;
    void thread.retire();
    this.replace(thread);
  }

  /** A thread that is gone gives way to a new one (unless the pool is closing). */
  replace(thread: PoolThread): void {
    this.threads = this.threads.filter((other) => other !== thread);
    this.idleThreads = this.idleThreads.filter((other) => other !== thread);
    if (!this.closing) this.add();
  }

  /**
   * Terminates the threads (a task still running ends as failed); calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    for (const task of this.queued.splice(0)) task.end(closedOutcome);
    this.closing ??= Promise.all(
      this.threads.map(async (thread) => {
        const task = thread.running;
        // Retired, it keeps the process alive no longer.
        thread.running = undefined;
        await thread.retire();
        task?.end(closedOutcome);
      }),
    ).then(() => undefined);
    return this.closing;
  }

  private add(): void {
    const thread = new PoolThread(this.options, this);
    this.threads.push(thread);
    this.idle(thread);
  }
}
