/**
 * jobq's programmatic API: everything the CLI does, as a library.
 *
 *   const queue = await JobQueue.open('local/demo');
 *   await pushTasks(queue, [shellTaskKwargs('echo hello')]);
 *   const result = await runWorker(queue, { numWorkers: 2 });
 */
export {
  pullOne,
  pushTask,
  pushTasks,
  runWorker,
  type PushSummary,
  type PushTasksOptions,
  type RunWorkerOptions,
} from './api.js';
export { JobQueue, type DeadLetterRecord, type LeasedMessage, type PeekedTask, type TaskResult } from './queue.js';
export { createTask, parseTask, serializeTask, type Kwargs, type NewTaskOptions, type Task } from './task/task.js';
export { parseSpec, type QueueTarget } from './backends/spec.js';
export type { Backend, QueueStore, Lease, BackendCapabilities } from './backends/backend.js';
export { Worker, type WorkerResult, type WorkerStats } from './worker/worker.js';
export type { WorkerOptions, IdlePolicy } from './worker/options.js';
export type { Processor, ProcessorOptions, RunningTask, TaskContext, TaskOutcome } from './processors/processor.js';
export { createProcessor } from './processors/task-types/registry.js';
export {
  loadTaskTypes,
  taskTypesHook,
  type TaskType,
  type TaskTypeCatalog,
  type TaskTypeDefinition,
  type TaskTypeHooks,
  type TaskTypesHook,
} from './processors/task-types/task-types.js';
export { createFunctionProcessor, type FunctionTaskContext, type TaskFunction } from './processors/function/function.js';
export { shellTaskKwargs, kwargsFromLines, type PushManyOptions } from './push.js';
export { createLogger, type Logger, type LoggerOptions } from './log/logger.js';
export { parseDuration } from './options/duration.js';
export * from './errors.js';
