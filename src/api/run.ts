/** Running tasks through the programmatic API: a worker until the queue is drained, or one task (`jobq pull`). */
import type { Config } from '@oclif/core';
import { readEnvironment } from '../options/environment.js';
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
  /** Called with the worker before it runs (the CLI's status line reads its counts). */
  onStart?: (worker: Worker) => void;
}

/**
 * Runs a worker on the queue until it is drained or stopped (SPEC §6). A
 * processor made here from a name is closed with the worker; one given is
 * left to its owner.
 */
export async function runWorker(queue: JobQueue, options: RunWorkerOptions = {}): Promise<WorkerResult> {
  const { proc = 'shell', emulateTty = false, taskTypes, onStart, ...workerOptions } = options;
  const environment = readEnvironment();
  // Resolved first: the processor is sized by them, and bad options fail before it starts threads.
  const { numWorkers, killTimeoutMs } = resolveLoopOptions(workerOptions, environment);
  if (typeof proc !== 'string') {
    const worker = new Worker(queue, proc, workerOptions, environment);
    onStart?.(worker);
    return worker.run();
  }
  const logger = workerOptions.logger;
  const warn = logger && ((message: string): void => logger.warn({ event: 'processor_warning' }, message));
  const processor = await createProcessor(
    proc,
    { numWorkers, emulateTty, killTimeoutMs, ...(warn && { warn }) },
    taskTypes?.config,
    taskTypes?.warn,
  );
  let worker: Worker;
  try {
    worker = new Worker(queue, processor, { ...workerOptions, closeProcessor: true }, environment);
  } catch (err) {
    await processor.close();
    throw err;
  }
  onStart?.(worker);
  return worker.run();
}

/** Leases one task, runs it and settles it (`jobq pull`); `result.leased` is 0 on an empty queue. */
export function pullOne(
  queue: JobQueue,
  options: Omit<RunWorkerOptions, 'numWorkers' | 'maxTasks' | 'whenIdle'> = {},
): Promise<WorkerResult> {
  return runWorker(queue, { ...options, numWorkers: 1, maxTasks: 1, whenIdle: 'exit' });
}
