/** Running tasks through the programmatic API: a worker until the queue is drained, or one task (`jobq pull`). */
import type { Config } from '@oclif/core';
import { readEnvironment, type JobqEnvironment } from '../options/environment.js';
import type { Processor } from '../processors/processor.js';
import { createProcessor } from '../processors/task-types/registry.js';
import type { JobQueue } from '../queue/job-queue.js';
import { resolveLoopOptions } from '../worker/options.js';
import { Worker, type WorkerOptions, type WorkerResult } from './worker.js';

export interface RunWorkerOptions extends Omit<WorkerOptions, 'closeProcessor'> {
  /** A task type name (`shell`, a plugin's), a function module path, or a processor (default `shell`). */
  proc?: string | Processor;
  /** Run shell tasks under a pseudo-terminal (default false). */
  emulateTty?: boolean;
  /**
   * Where task types named by `proc` come from: an oclif config with the
   * plugins installed (default: jobq's own, loaded only when `proc` is not
   * built in), and where warnings about plugins go (default: process warnings).
   */
  taskTypes?: { config?: Config; warn?: (message: string) => void };
  /** Called with the worker and its queue before it runs (the CLI's status line reads their counts). */
  onStart?: (worker: Worker, queue: JobQueue) => void;
}

/**
 * Runs a worker on the queue until it is drained or stopped (SPEC §6). A
 * processor made here from a name is closed with the worker; one given is
 * left to its owner.
 *
 * The queue may still be opening: the processor is made meanwhile, so that
 * function threads boot on another core while the main thread loads the
 * storage SDK and opens the queue. Its failure comes first, as when it
 * was opened before.
 */
export async function runWorker(queue: JobQueue | Promise<JobQueue>, options: RunWorkerOptions = {}): Promise<WorkerResult> {
  const { proc = 'shell', emulateTty = false, taskTypes, onStart, ...workerOptions } = options;
  const environment = readEnvironment();
  // Resolved first: the processor is sized by them, and bad options fail before it starts threads.
  const { numWorkers, killTimeoutMs } = resolveLoopOptions(workerOptions, environment);
  if (typeof proc !== 'string') return startWorker(await queue, proc, workerOptions, environment, onStart);
  const logger = workerOptions.logger;
  const warn = logger && ((message: string): void => logger.warn({ event: 'processor_warning' }, message));
  const creating = createProcessor(
    proc,
    { numWorkers, emulateTty, killTimeoutMs, ...(warn && { warn }) },
    taskTypes?.config,
    taskTypes?.warn,
  );
  let opened: JobQueue;
  try {
    opened = await queue;
  } catch (err) {
    await creating.then((processor) => processor.close(), () => undefined);
    throw err;
  }
  const processor = await creating;
  try {
    return startWorker(opened, processor, { ...workerOptions, closeProcessor: true }, environment, onStart);
  } catch (err) {
    await processor.close();
    throw err;
  }
}

function startWorker(
  queue: JobQueue,
  processor: Processor,
  options: WorkerOptions,
  environment: JobqEnvironment,
  onStart: RunWorkerOptions['onStart'],
): Promise<WorkerResult> {
  const worker = new Worker(queue, processor, options, environment);
  onStart?.(worker, queue);
  return worker.run();
}

/** Leases one task, runs it and settles it (`jobq pull`); `result.leased` is 0 on an empty queue. */
export function pullOne(
  queue: JobQueue,
  options: Omit<RunWorkerOptions, 'numWorkers' | 'maxTasks' | 'whenIdle'> = {},
): Promise<WorkerResult> {
  return runWorker(queue, { ...options, numWorkers: 1, maxTasks: 1, whenIdle: 'exit' });
}
