/**
 * The worker loop's parts for one queue and one processor: leases come from a
 * lease buffer (which leases ahead of the slots), each becomes a
 * TaskExecution that runs through the processor and settles through the
 * queue, and the idle policy asks the queue whether anything is left.
 */
import type { Logger } from '../log/logger.js';
import type { TaskOutput } from '../log/task-output.js';
import type { Processor } from '../processors/processor.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { RunningTaskRow } from '../backends/fleet.js';
import { ActiveTasks } from './active-tasks.js';
import type { AttemptRecorder } from './attempt-record.js';
import { TaskExecution } from './execution.js';
import { LeaseBuffer } from './lease-buffer.js';
import type { Job, LoopParts } from './loop.js';
import type { WorkerEventListener } from './worker-events.js';
import type { ResolvedLoopOptions } from './options.js';

export interface QueueParts extends LoopParts {
  /** How many messages were leased for the slots in all. */
  readonly leased: number;
  /** How many leases are held ahead of the slots now (leased, not yet started). */
  readonly buffered: number;
  /** The tasks running now: what each runs and since when. */
  running(): RunningTaskRow[];
  /** How many tasks run now. */
  readonly runningCount: number;
  /** Ends leasing: waits for the lease call in flight and puts back every lease no slot took. */
  close(): Promise<void>;
}

export interface QueuePartsSettings {
  readonly options: ResolvedLoopOptions;
  /** Whether leases may be kept for later (the worker is running, not stopping or braced). */
  readonly isRunning: () => boolean;
  readonly logger: Logger;
  readonly output: TaskOutput;
  /** The longest description of a task in a log message. */
  readonly describeWidth: number;
  /** Who records finished attempts in the queue's history; undefined: none are recorded. */
  readonly attempts: AttemptRecorder | undefined;
  /** Hears the task events as they are logged; undefined: nobody. */
  readonly events: WorkerEventListener | undefined;
}

export function queueParts(queue: JobQueue, processor: Processor, settings: QueuePartsSettings): QueueParts {
  const { options, isRunning, logger, output, describeWidth, attempts, events } = settings;
  const leases = new LeaseBuffer(queue, {
    visibilityMs: options.visibilityTimeoutMs,
    heartbeat: options.heartbeat,
    maxTasks: options.maxTasks,
    isRunning,
    logger,
  });
  const active = new ActiveTasks();
  const context = { queue, processor, options, logger, output, describeWidth, active, attempts, events };
  /** The size read in flight: idle slots that ask at once share it (a request each on Azure). */
  let sizeRead: Promise<number> | undefined;
  const queueSize = (): Promise<number> =>
    (sizeRead ??= queue.size().finally(() => {
      sizeRead = undefined;
    }));
  return {
    get leased() {
      return leases.claimed;
    },
    get buffered() {
      return leases.bufferedCount;
    },
    running: () => active.list(),
    get runningCount() {
      return active.size;
    },
    leaseReady(): Job | undefined {
      const held = leases.take();
      return held && new TaskExecution(held, context);
    },
    async lease(): Promise<Job | undefined> {
      const held = await leases.next();
      return held && new TaskExecution(held, context);
    },
    async isDrained(held: number): Promise<boolean> {
      switch (options.whenIdle) {
        case 'exit':
          return true;
        case 'poll':
          return false;
        case 'wait-for-leased':
          // A message this worker holds is still in the queue: no need to ask.
          return held === 0 && (await queueSize()) === 0;
      }
    },
    mayLeaseMore: () => leases.claimed < options.maxTasks,
    pause: () => leases.releaseBuffered(),
    // An idle slot wakes at a push where the backend says so (PostgreSQL's NOTIFY), else polls.
    waitForTasks: (ms, signal) => queue.waitForPush(ms, signal),
    close: () => leases.close(),
  };
}
