/**
 * jobq's programmatic API: everything the CLI does, as a library.
 *
 *   const queue = await JobQueue.open('local/demo');
 *   await pushTasks(queue, [shellTaskKwargs('echo hello')]);
 *   const result = await runWorker(queue, { numWorkers: 2 });
 */
export { pushTask, pushTasks, type PushSummary, type PushTasksOptions } from './api/push.js';
export { pullOne, runWorker, type RunWorkerOptions } from './api/run.js';
export { Worker, type WorkerOptions, type WorkerResult } from './api/worker.js';
export { JobQueue, type DeadLetterRecord, type LeasedMessage, type PeekedTask, type TaskResult } from './queue/job-queue.js';
export { createTask, parseTask, serializeTask, type Kwargs, type NewTaskOptions, type Task } from './task/task.js';
export { parseSpec, type QueueTarget } from './backends/spec.js';
export type { Backend, QueueStore, Lease, BackendCapabilities } from './backends/backend.js';
export type {
  AttemptOutcome,
  AttemptRecord,
  HistoryFilter,
  HistoryStore,
  OutcomeCounts,
  RetentionPolicy,
  RunningTaskRow,
  WorkerPhase,
  WorkerRow,
  WorkerRowStore,
} from './backends/fleet.js';
export { fleetStatus, type FleetStatus, type WorkerState, type WorkerStatus } from './fleet/status.js';
export type { FleetRecords } from './queue/fleet-records.js';
export type { PushFilterOptions } from './push/filter.js';
export type { FleetOptions } from './worker/fleet-options.js';
export type { WorkerStats } from './worker/loop.js';
export type { IdlePolicy, LoopOptions } from './worker/options.js';
export type { StopSourceOptions } from './signals/stop-sources.js';
export type { StopSource } from './signals/broker.js';
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
export {
  pushItems,
  pushKwargs,
  shellTaskKwargs,
  type PushItem,
  type PushOptions,
  type PushProgress,
  type PushTarget,
} from './push.js';
export { commandItems, lineItems, lineKwargsJson, type PushSettings } from './push/input.js';
export { findSpec, specFromEnvironment } from './backends/spec.js';
export { createLogger, type Logger, type LoggerOptions } from './log/logger.js';
export { parseDuration } from './options/duration.js';
export { ExitCode } from './exit-codes.js';
export * from './errors.js';
