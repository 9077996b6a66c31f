/**
 * The operations of the programmatic API that are more than one call on a
 * JobQueue: pushing (one, many, from async sources), pulling one task, and
 * running workers. The CLI commands are built on the same pieces.
 */
import { UsageError, isJobqError } from './errors.js';
import { createProcessor } from './processors/task-types/registry.js';
import type { Processor } from './processors/processor.js';
import { pushBodies, type PushManyOptions } from './push.js';
import type { JobQueue } from './queue.js';
import { createTask, type Kwargs, type NewTaskOptions, type Task } from './task/task.js';
import type { WorkerOptions } from './worker/options.js';
import { Worker, type WorkerResult } from './worker/worker.js';

/** Pushes one task; returns it (with its id). */
export async function pushTask(queue: JobQueue, kwargs: Kwargs, options: NewTaskOptions = {}): Promise<Task> {
  const task = createTask(kwargs, options);
  await queue.push([task]);
  return task;
}

export interface PushTasksOptions extends NewTaskOptions, PushManyOptions {
  /**
   * Skips a task whose work is already done (the reference's work
   * specification): called for every kwargs; a true answer skips it.
   */
  alreadyDone?: (kwargs: Kwargs) => boolean | Promise<boolean>;
}

export interface PushSummary {
  pushed: number;
  skipped: number;
  /** The ids of the tasks pushed, in order. */
  taskIds: string[];
}

/**
 * Pushes many tasks from an array or an (async) iterable, `batchSize` (100)
 * at a time with `concurrency` (10) batches in flight. Each batch is checked
 * before it is sent; a bad task rejects with a UsageError naming its position.
 */
export async function pushTasks(
  queue: JobQueue,
  source: Iterable<Kwargs> | AsyncIterable<Kwargs>,
  options: PushTasksOptions = {},
): Promise<PushSummary> {
  const batchSize = options.batchSize ?? 100;
  const window = batchSize * Math.max(1, options.concurrency ?? 10);
  const summary: PushSummary = { pushed: 0, skipped: 0, taskIds: [] };
  let bodies: string[] = [];
  let position = 0;
  const flush = async (): Promise<void> => {
    await pushBodies(queue, bodies, { ...options, onProgress: (n) => options.onProgress?.(summary.pushed + n) });
    summary.pushed += bodies.length;
    bodies = [];
  };
  for await (const kwargs of source) {
    position += 1;
    if (options.alreadyDone && (await options.alreadyDone(kwargs))) {
      summary.skipped += 1;
      continue;
    }
    try {
      const task = createTask(kwargs, options);
      bodies.push(queue.encode(task));
      summary.taskIds.push(task.id);
    } catch (err) {
      if (isJobqError(err)) throw new UsageError(`task ${position}: ${err.message}`, { cause: err });
      throw err;
    }
    if (bodies.length >= window) await flush();
  }
  if (bodies.length > 0) await flush();
  return summary;
}

export interface RunWorkerOptions extends WorkerOptions {
  /** A task type name (`shell`, a plugin's), a function module path, or a processor (default `shell`). */
  proc?: string | Processor;
  /** Run shell tasks under a pseudo-terminal (default false). */
  emulateTty?: boolean;
}

/** Runs a worker on the queue until it is drained or stopped (SPEC §6). */
export async function runWorker(queue: JobQueue, options: RunWorkerOptions = {}): Promise<WorkerResult> {
  const { proc = 'shell', emulateTty = false, ...workerOptions } = options;
  const processor =
    typeof proc === 'string' ? await createProcessor(proc, { numWorkers: workerOptions.numWorkers ?? 1, emulateTty }) : proc;
  try {
    return await new Worker(queue, processor, workerOptions).run();
  } finally {
    if (typeof proc === 'string') await processor.close();
  }
}

/** Leases one task, runs it and settles it (`jobq pull`); `result.leased` is 0 on an empty queue. */
export function pullOne(queue: JobQueue, options: Omit<RunWorkerOptions, 'numWorkers' | 'maxTasks' | 'whenIdle'> = {}): Promise<WorkerResult> {
  return runWorker(queue, { ...options, numWorkers: 1, maxTasks: 1, whenIdle: 'exit' });
}
