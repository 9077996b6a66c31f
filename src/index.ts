/**
 * jobq's programmatic API: everything the CLI does, as a library.
 *
 *   const queue = await JobQueue.open('local/demo');
 *   await pushTasks(queue, [{ cmd: 'echo hello' }]);
 *   const result = await runWorker(queue, { numWorkers: 2 });
 */
import type { Kwargs, NewTaskOptions, Task } from './task/task.js';
import type { JobQueue } from './queue.js';
import { prepareTasks, pushBodies, type PushManyOptions } from './push.js';
import { createProcessor } from './processors/registry.js';
import type { Processor } from './processors/processor.js';
import { Worker, type WorkerResult } from './worker/worker.js';
import type { WorkerOptions } from './worker/options.js';

export { JobQueue, type DeadLetterRecord, type LeasedMessage, type PeekedTask } from './queue.js';
export { createTask, parseTask, serializeTask, type Kwargs, type NewTaskOptions, type Task } from './task/task.js';
export { parseSpec, type QueueTarget } from './backends/spec.js';
export type { Backend, QueueStore, Lease, BackendCapabilities } from './backends/backend.js';
export { Worker, type WorkerResult, type WorkerStats } from './worker/worker.js';
export type { WorkerOptions, IdlePolicy } from './worker/options.js';
export type { Processor, RunningTask, TaskContext, TaskOutcome } from './processors/processor.js';
export { createProcessor, type ProcessorOptions } from './processors/registry.js';
export {
  loadTaskTypes,
  taskTypesHook,
  type TaskType,
  type TaskTypeCatalog,
  type TaskTypeDefinition,
  type TaskTypeHooks,
  type TaskTypesHook,
} from './processors/task-types.js';
export { createFunctionProcessor, type FunctionTaskContext, type TaskFunction } from './processors/function.js';
export { shellTaskKwargs, kwargsFromLines, type PushManyOptions } from './push.js';
export { createLogger, type Logger, type LoggerOptions } from './log/logger.js';
export { parseDuration } from './options/duration.js';
export * from './errors.js';

/** Pushes tasks given as kwargs; every one is checked before any is sent. Returns the tasks (with ids). */
export async function pushTasks(
  queue: JobQueue,
  kwargsList: readonly Kwargs[],
  options: NewTaskOptions & PushManyOptions = {},
): Promise<Task[]> {
  const { tasks, bodies } = prepareTasks(queue, kwargsList, options);
  await pushBodies(queue, bodies, options);
  return tasks;
}

export interface RunWorkerOptions extends WorkerOptions {
  /** A task type name (`shell`) or a processor (default `shell`). */
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
