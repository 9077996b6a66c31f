/**
 * The threads of the function processor, and the task handles they run.
 *
 * Each thread runs one task at a time, handed to it as one message on its
 * own port (function-messages.ts); its report comes back on the same port,
 * after the task's log lines. The main thread hands a task straight to an
 * idle thread, which costs one message each way and nothing else, a
 * fraction of what a general-purpose pool (piscina) spends on a run.
 *
 * While tasks are short, a busy thread also takes the next tasks ahead (up
 * to `tasksAheadPerThread`): they wait in the thread and each starts the
 * moment the one before it has reported, so the thread never sleeps between
 * tasks waiting for the main thread to hear the report and answer. Waking a
 * sleeping thread is most of what a message costs on a small machine: one
 * task ahead made no-op tasks 11-30% faster, three about 10% more. A task
 * waits ahead only where what runs and waits before it should be done
 * within `aheadMaxMs` (by the thread's last task), behind a task that has
 * run less than that; those that wait behind a longer task are reclaimed
 * and go to the next thread that is free. A waiting task has not started:
 * the task's context hears `started()` when it does.
 *
 * A task's handle moves through: queued (in the pool, or waiting in a
 * thread) → running on a thread → ended. A stop or a kill ends a task that
 * has not started at once (`notStarted`, or `killed`); a stop reaches a
 * running one as a message, and a kill terminates its thread, which is
 * replaced, as is a thread that dies by itself (an uncaught error,
 * `process.exit`), failing the task it ran; the tasks that waited in it run
 * on another. A busy thread keeps the process alive; an idle one does not.
 */
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import {
  isThreadMessage,
  type ReclaimMessage,
  type RunMessage,
  type StopMessage,
  type ThreadMessage,
  type ThreadSetup,
} from './function-messages.js';
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

/** The most tasks that wait ahead in one thread. */
export const tasksAheadPerThread = 3;
/** A task waits ahead in a thread only where it should start within this, ms; it is reclaimed when the task before it has run this long. */
const aheadMaxMs = 20;

const killedOutcome: TaskOutcome = { ok: false, error: 'killed' };
const nothingReturned: TaskOutcome = { ok: true, result: undefined };
const closedOutcome: TaskOutcome = { ok: false, error: "the task's thread failed: the function processor was closed" };
/** A task stopped before it started: it never ran. */
const notStartedOutcome: TaskOutcome = { ok: false, error: 'stopped before it started' };

/** The main thread's side of one task. */
class FunctionTask implements RunningTask {
  readonly done: Promise<TaskOutcome>;
  private resolve!: (outcome: TaskOutcome) => void;
  /** The thread it was handed to (running or waiting there). */
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
    // Not handed over yet: it never starts. (Handed over, the thread stops it or drops it.)
    if (this.thread) this.thread.post({ kind: 'stop', key: this.key } satisfies StopMessage);
    else this.end(notStartedOutcome);
  }

  kill(): void {
    if (this.ended) return;
    this.pool.kill(this);
  }

  /** It starts on its thread now. */
  begin(): void {
    try {
      this.context.started?.();
    } catch {
      // The worker's bookkeeping failing must not take the thread's message handler down.
    }
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

/** One thread, the task it runs and the tasks waiting ahead in it. */
class PoolThread {
  private readonly worker: Worker;
  /** The task it runs first, then those waiting in it, in order. */
  private readonly tasks: FunctionTask[] = [];
  /** When the task it runs started (performance.now()), and how long its last one took, ms. */
  private headSince = 0;
  private lastRunMs = 0;
  /** Its waiting tasks were reclaimed: it takes none ahead until the task it runs ends. */
  private reclaiming = false;
  /** Listed in the pool's threads with room ahead. */
  listed = false;
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

  post(message: RunMessage | StopMessage | ReclaimMessage): void {
    this.worker.postMessage(message);
  }

  get hasWaiting(): boolean {
    return this.tasks.length > 1;
  }

  /**
   * Whether a task may wait ahead in it now: it runs a task that has run
   * less than `aheadMaxMs`, and the tasks in it should be done by then, if
   * they take as long as its last.
   */
  get hasRoomAhead(): boolean {
    const count = this.tasks.length;
    return (
      count >= 1 &&
      count <= tasksAheadPerThread &&
      !this.reclaiming &&
      !this.retired &&
      count * this.lastRunMs < aheadMaxMs &&
      performance.now() - this.headSince < aheadMaxMs
    );
  }

  run(task: FunctionTask): void {
    this.tasks.push(task);
    task.thread = this;
    const { key, context } = task;
    this.post({ kind: 'run', key, taskId: context.task.id, kwargsJson: context.task.kwargsJson });
    if (this.tasks.length > 1) this.pool.waitingAhead();
    else {
      this.pool.busy(1);
      this.began(task);
    }
    this.pool.roomAhead(this);
  }

  /** Asks for its waiting tasks back, if the task it runs has run `aheadMaxMs` (they go to a free thread). */
  reclaimIfSlow(now: number): void {
    if (!this.hasWaiting || this.reclaiming || now - this.headSince < aheadMaxMs) return;
    this.reclaiming = true;
    for (const task of this.tasks.slice(1)) this.post({ kind: 'reclaim', key: task.key } satisfies ReclaimMessage);
  }

  /** Ends `task`: the one it runs terminates the thread (replaced); a waiting one is reclaimed, in case it is still waiting. */
  kill(task: FunctionTask): void {
    if (this.tasks[0] !== task) {
      this.post({ kind: 'reclaim', key: task.key } satisfies ReclaimMessage);
      return;
    }
    void this.retire();
    this.pool.replace(this);
  }

  /** Terminates the thread; its waiting tasks go back to the pool, unstarted. */
  retire(): Promise<number> {
    this.retired = true;
    this.abandon();
    return this.worker.terminate();
  }

  /** Ends what it runs with `outcome` (the pool's close). */
  endAll(outcome: TaskOutcome): void {
    for (const task of this.tasks) task.end(outcome);
    this.clear();
  }

  private began(task: FunctionTask): void {
    this.headSince = performance.now();
    task.begin();
  }

  private received(message: ThreadMessage): void {
    if (this.retired) return;
    const head = this.tasks[0];
    if (typeof message === 'number') {
      if (head?.key === message) this.reported(head, nothingReturned);
    } else if (message.kind === 'dropped') {
      this.dropped(message.key);
    } else if (head?.key === message.key) {
      if (message.kind === 'log') head.onLog(message.text);
      else this.reported(head, message.outcome);
    }
  }

  /** The task it ran has reported: the next waiting one has started in the thread already. */
  private reported(head: FunctionTask, outcome: TaskOutcome): void {
    this.tasks.shift();
    const now = performance.now();
    this.lastRunMs = now - this.headSince;
    this.reclaiming = false;
    const next = this.tasks[0];
    if (next === undefined) {
      this.pool.busy(-1);
      this.pool.idle(this);
    } else if (next.isOver) {
      // Killed while it waited, it started before the reclaim came: it must not run on.
      void this.retire();
      this.pool.replace(this);
    } else {
      this.began(next);
      this.pool.roomAhead(this);
    }
    head.end(outcome);
  }

  /** A waiting task was dropped unstarted: a stopped one ends, a reclaimed one runs elsewhere. */
  private dropped(key: number): void {
    const index = this.tasks.findIndex((task, at) => at > 0 && task.key === key);
    if (index === -1) return;
    const [task] = this.tasks.splice(index, 1);
    if (task === undefined || task.isOver) return;
    task.thread = undefined;
    if (task.stopRequested) task.end(notStartedOutcome);
    else this.pool.requeue(task);
  }

  /** An error thrown outside the task's promise (a timer's): the thread exits after it. */
  private failed(err: unknown): void {
    if (this.retired) return;
    const head = this.abandon();
    if (head) head.end({ ok: false, error: `the task's thread failed: ${errorMessage(err)}` });
    else this.pool.warn(`a function thread failed outside any task and was replaced: ${errorMessage(err)}`);
  }

  private exited(code: number): void {
    if (this.retired) return;
    const head = this.abandon();
    head?.end({ ok: false, error: `the task's thread exited with code ${code}` });
    this.pool.replace(this);
  }

  /** Gives up what it holds: its waiting tasks go back to the pool, unstarted; returns the task it ran. */
  private abandon(): FunctionTask | undefined {
    const head = this.tasks[0];
    for (const task of this.tasks.splice(1)) {
      task.thread = undefined;
      this.pool.requeue(task);
    }
    this.clear();
    return head;
  }

  /** It runs nothing any more. */
  private clear(): void {
    if (this.tasks.length > 0) this.pool.busy(-1);
    this.tasks.length = 0;
  }
}

export class FunctionPool {
  private threads: PoolThread[] = [];
  private idleThreads: PoolThread[] = [];
  /** Threads that may take a task ahead (checked again when one is taken: they may have changed). */
  private roomyThreads: PoolThread[] = [];
  private readonly queued: FunctionTask[] = [];
  private nextKey = 0;
  private closing: Promise<void> | undefined;
  /** Threads running a task, and what keeps the process alive while there are any. */
  private busyThreads = 0;
  private keepAlive: NodeJS.Timeout | undefined;
  /** Looks for tasks waiting behind a long one while any wait ahead. */
  private reclaimTimer: NodeJS.Timeout | undefined;

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
    const thread = this.idleThreads.pop() ?? this.threadWithRoom();
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
    const task = this.nextQueued();
    if (task) thread.run(task);
    else this.idleThreads.push(thread);
  }

  /** A thread runs a short task and has room ahead: a queued task waits there, else it is listed. */
  roomAhead(thread: PoolThread): void {
    if (!thread.hasRoomAhead) return;
    const task = this.nextQueued();
    if (task) thread.run(task);
    else if (!thread.listed) {
      thread.listed = true;
      this.roomyThreads.push(thread);
    }
  }

  /** A task waits ahead in a thread: the reclaim check runs while any do. */
  waitingAhead(): void {
    this.reclaimTimer ??= setTimeout(() => this.reclaimSlow(), aheadMaxMs).unref();
  }

  /** A task that went back unstarted (reclaimed, or its thread died) runs first on the next free thread. */
  requeue(task: FunctionTask): void {
    if (task.isOver) return;
    if (this.closing) {
      task.end(closedOutcome);
      return;
    }
    const thread = this.idleThreads.pop();
    if (thread) thread.run(task);
    else this.queued.unshift(task);
  }

  kill(task: FunctionTask): void {
    const thread = task.thread;
    task.end(killedOutcome);
    thread?.kill(task);
  }

  /** A thread that is gone gives way to a new one (unless the pool is closing). */
  replace(thread: PoolThread): void {
    this.threads = this.threads.filter((other) => other !== thread);
    this.idleThreads = this.idleThreads.filter((other) => other !== thread);
    this.roomyThreads = this.roomyThreads.filter((other) => other !== thread);
    if (!this.closing) this.add();
  }

  /**
   * Terminates the threads (a task still running ends as failed); calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    for (const task of this.queued.splice(0)) task.end(closedOutcome);
    clearTimeout(this.reclaimTimer);
    this.closing ??= Promise.all(
      this.threads.map(async (thread) => {
        thread.endAll(closedOutcome);
        // Retired, it keeps the process alive no longer.
        await thread.retire();
      }),
    ).then(() => undefined);
    return this.closing;
  }

  private add(): void {
    const thread = new PoolThread(this.options, this);
    this.threads.push(thread);
    this.idle(thread);
  }

  private nextQueued(): FunctionTask | undefined {
    let task = this.queued.shift();
    while (task?.isOver) task = this.queued.shift();
    return task;
  }

  private threadWithRoom(): PoolThread | undefined {
    let thread = this.roomyThreads.pop();
    while (thread) {
      thread.listed = false;
      if (thread.hasRoomAhead) return thread;
      thread = this.roomyThreads.pop();
    }
    return undefined;
  }

  private reclaimSlow(): void {
    this.reclaimTimer = undefined;
    const now = performance.now();
    for (const thread of this.threads) thread.reclaimIfSlow(now);
    if (this.threads.some((thread) => thread.hasWaiting)) this.waitingAhead();
  }
}
