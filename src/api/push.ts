/** Pushing through the programmatic API: one task, or many from an array or an (async) iterable. */
import { readEnvironment } from '../options/environment.js';
import { pushKwargs, type PushKwargsOptions, type PushSummary as PipelineSummary } from '../push.js';
import { PushFilter, type PushFilterOptions } from '../push/filter.js';
import type { JobQueue } from '../queue/job-queue.js';
import { createTask, type Kwargs, type NewTaskOptions, type Task } from '../task/task.js';

/** Task options with the id kind from JOBQ_DETERMINISTIC_IDS when not given. */
function withEnvironment<T extends NewTaskOptions>(options: T): T {
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

export interface PushTasksOptions extends PushKwargsOptions, PushFilterOptions {}

export interface PushSummary extends PipelineSummary {
  /** Of the skipped, those whose id already succeeded (`skipDone`) or is queued (`skipQueued`). */
  skippedDone: number;
  skippedQueued: number;
}

/**
 * Pushes many tasks from an array or an (async) iterable, streamed: on
 * local/ (and PostgreSQL) all or nothing, in one transaction; on Azure the
 * tasks are all checked first, then sent `concurrency` (10) at a time, and a
 * push that stops part way says exactly what was enqueued (a
 * PushIncompleteError). A bad task rejects with a UsageError naming its
 * position (`task 3`), before anything is enqueued.
 */
export async function pushTasks(
  queue: JobQueue,
  source: Iterable<Kwargs> | AsyncIterable<Kwargs>,
  options: PushTasksOptions = {},
): Promise<PushSummary> {
  const { skipDone, skipQueued, ...pushOptions } = options;
  const filter = await PushFilter.create(queue, { skipDone: skipDone ?? false, skipQueued: skipQueued ?? false });
  const summary = await pushKwargs(queue, source, {
    ...withEnvironment(pushOptions),
    ...(filter && { keep: (task: Task) => filter.keep(task.id) }),
  });
  const skippedDone = filter?.skipped.done ?? 0;
  const skippedQueued = filter?.skipped.queued ?? 0;
  return { ...summary, skipped: summary.skipped + skippedDone + skippedQueued, skippedDone, skippedQueued };
}

