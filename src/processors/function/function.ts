/**
 * Function tasks (SPEC §8): each task's kwargs go through an exported function
 * of a module, on a pool of `numWorkers` threads (function-pool.ts).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { withoutSecrets } from '../../backends/secrets.js';
import { describeValue, errorMessage, UsageError } from '../../errors.js';
import { FunctionPool, tasksAheadPerThread } from './function-pool.js';
import { splitModuleSpec } from '../module-spec.js';
import type { Processor, RunningTask, TaskContext } from '../processor.js';

export type { FunctionTaskContext, TaskFunction } from './function-thread.js';

export interface FunctionProcessorOptions {
  /** `PATH` (the default export) or `PATH#exportName`; PATH is resolved against the current directory. */
  module: string;
  /** Threads in the pool: as many as the worker's task slots. */
  numWorkers: number;
  /** Where a thread's failure outside any task is reported (default: a process warning). */
  warn?: (message: string) => void;
}

function processWarning(message: string): void {
  process.emitWarning(message, { code: 'JOBQ_FUNCTION_THREAD' });
}

/**
 * A processor that runs tasks through a module's function on worker threads.
 * Throws a UsageError when the module cannot be imported or the export is not a function.
 */
export async function createFunctionProcessor(options: FunctionProcessorOptions): Promise<Processor> {
  if (!Number.isSafeInteger(options.numWorkers) || options.numWorkers < 1) {
    throw new UsageError(`numWorkers must be an integer of at least 1, got ${options.numWorkers}`);
  }
  const { moduleUrl, exportName } = await checkModule(options.module);
  const pool = new FunctionPool({
    setup: { moduleUrl, exportName },
    threads: options.numWorkers,
    // Threads share the process, so this only keeps the secrets out of their process.env (see the README).
    env: withoutSecrets(process.env),
    warn: options.warn ?? processWarning,
  });
  return new FunctionProcessor(options.module, pool);
}

/** Imports the module in the main thread, so that a bad `--proc` fails before any task is leased. */
async function checkModule(spec: string): Promise<{ moduleUrl: string; exportName: string }> {
  const { file, exportName = 'default' } = splitModuleSpec(spec);
  if (file === '' || exportName === '') {
    throw new UsageError(`invalid function module "${spec}": expected PATH or PATH#exportName`);
  }
  const absolute = path.resolve(file);
  const found = await stat(absolute).then(
    (stats) => stats.isFile(),
    () => false,
  );
  if (!found) throw new UsageError(`function module ${absolute}: file not found`);
  const moduleUrl = pathToFileURL(absolute).href;
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(moduleUrl)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`function module ${absolute}: not a module that can be imported: ${errorMessage(err)}`, { cause: err });
  }
  if (!(exportName in namespace)) {
    const hint = exportName === 'default' ? '; name one with PATH#exportName' : '';
    throw new UsageError(`function module ${absolute}: no export "${exportName}"${hint}`);
  }
  const fn = namespace[exportName];
  if (typeof fn !== 'function') {
    throw new UsageError(`function module ${absolute}: export "${exportName}" is not a function (it is ${describeValue(fn)})`);
  }
  return { moduleUrl, exportName };
}

class FunctionProcessor implements Processor {
  /** A thread takes the next tasks while it runs one (function-pool.ts). */
  readonly takesAhead = tasksAheadPerThread;

  constructor(
    readonly name: string,
    private readonly pool: FunctionPool,
  ) {}

  start(context: TaskContext): RunningTask {
    return this.pool.start(context);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
