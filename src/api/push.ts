/** Pushing through the programmatic API: one task, or many from an array or an (async) iterable. */
import { readEnvironment } from '../options/environment.js';
import { encodeTask, pushBodies, type PushManyOptions } from '../push.js';
import { PushFilter, type PushFilterOptions } from '../push-filter.js';
import type { JobQueue } from '../queue/job-queue.js';
import { createTask, type Kwargs, type NewTaskOptions, type Task } from '../task/task.js';

/** Task options with the id kind from JOBQ_DETERMINISTIC_IDS when not given. */
function withEnvironment(options: NewTaskOptions): NewTaskOptions {
  if (options.deterministicId !== undefined) return options;
  const deterministicId = readEnvironment().deterministicIds;
  return deterministicId === undefined ? options : { ...options, deterministicId };
}

/** Pushes one task; returns it (with its id). */
export async function pushTask(queue: JobQueue, kwargs: Kwargs, options: NewTaskOptions = {}): Promise<Task> {
  const task = createTask(kwargs, withEnvironment(options));
  await queue.push([task]);
  return task;
}

export interface PushTasksOptions extends NewTaskOptions, PushManyOptions, PushFilterOptions {
  /**
   * Skips a task whose work is already done (the reference's work
   * specification): called for every kwargs; a true answer skips it.
   */
  alreadyDone?: (kwargs: Kwargs) => boolean | Promise<boolean>;
}

export interface PushSummary {
  pushed: number;
  /** Skipped in all: by `alreadyDone`, `skipDone` and `skipQueued`. */
  skipped: number;
  /** Of those, skipped because their id already succeeded (`skipDone`) or is queued (`skipQueued`). */
  skippedDone: number;
  skippedQueued: number;
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
  const taskOptions = withEnvironment(options);
  const batchSize = options.batchSize ?? 100;
  const window = batchSize * Math.max(1, options.concurrency ?? 10);
  const summary: PushSummary = { pushed: 0, skipped: 0, skippedDone: 0, skippedQueued: 0, taskIds: [] };
  const filter = await PushFilter.create(queue, options);
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
    const { task, body } = encodeTask(queue, kwargs, taskOptions, () => `task ${position}`);
    if (filter && !filter.keep(task.id)) {
      summary.skipped += 1;
      continue;
    }
    bodies.push(body);
    summary.taskIds.push(task.id);
    if (bodies.length >= window) await flush();
  }
  if (bodies.length > 0) await flush();
  summary.skippedDone = filter?.skipped.done ?? 0;
  summary.skippedQueued = filter?.skipped.queued ?? 0;
  return summary;
}
