/**
 * Task types by name (`--proc`, SPEC §8): a built-in type (`shell`), a name
 * defined through the `jobq:task-types` hook by a plugin, or a function
 * module path. The plugins (and oclif, and the CLI's configuration under
 * ~/.local/share/jobq) are loaded only for a name that is neither built in
 * nor a path, so a library program that runs shell tasks or its own module
 * never sees them. The function processor is imported only when one is asked
 * for, so that `--proc shell` does not pay for loading the thread pool.
 */
import type { Config } from '@oclif/core';
import { UsageError } from '../../errors.js';
import type { Processor, ProcessorOptions } from '../processor.js';
import { builtinTaskTypes } from './builtin-task-types.js';
import { loadTaskTypes, type TaskType } from './task-types.js';

/** Where warnings about plugins go when the caller gives no sink: Node's process warnings. */
function emitWarning(message: string): void {
  process.emitWarning(message, { code: 'JOBQ_TASK_TYPE' });
}

/**
 * The processor for `name`: a task type from the `jobq:task-types` hook, or a
 * function module (`./tasks.js`, `./tasks.js#export`). Throws a UsageError for
 * an unknown name, listing the available ones.
 *
 * @param config the CLI's oclif config; default: jobq's, loaded with the plugins
 *   installed or linked with `jobq plugins`.
 * @param warn receives one line per plugin that failed or returned a bad
 *   definition (default: `process.emitWarning`).
 */
export async function createProcessor(
  name: string,
  options: ProcessorOptions,
  config?: Config,
  warn: (message: string) => void = emitWarning,
): Promise<Processor> {
  const builtin = builtinTaskTypes.find((candidate) => candidate.name === name);
  if (builtin?.createProcessor) {
    const { description, createProcessor: create } = builtin;
    return instantiate({ name, description, plugin: 'jobq', kind: 'processor', createProcessor: create }, options);
  }
  if (isModulePath(name)) return createFunctionProcessor(name, options);
  const catalog = await loadTaskTypes(config);
  for (const warning of catalog.warnings) warn(warning);
  const type = catalog.types.find((candidate) => candidate.name === name);
  if (type) return instantiate(type, options);
  if (looksLikeModule(name)) return createFunctionProcessor(name, options);
  const available = catalog.types.map((candidate) => candidate.name).join(', ');
  throw new UsageError(
    `unknown task type "${name}": available task types are: ${available} (or give a function module: ./tasks.js, ./tasks.js#export)`,
  );
}

/** A name with `/`, `\\` or `#` is a module path: no task type's name has them. */
function isModulePath(name: string): boolean {
  return name.includes('/') || name.includes('\\') || name.includes('#');
}

/** Whether `--proc` names a module rather than a task type (`tasks.js` could be either: types win). */
function looksLikeModule(name: string): boolean {
  return isModulePath(name) || /\.[cm]?[jt]s$/.test(name);
}

async function createFunctionProcessor(module: string, options: ProcessorOptions): Promise<Processor> {
  const { createFunctionProcessor: create } = await import('../function/function.js');
  return create({ module, numWorkers: options.numWorkers, ...(options.warn && { warn: options.warn }) });
}

async function instantiate(type: TaskType, options: ProcessorOptions): Promise<Processor> {
  if (type.kind === 'function') return named(await createFunctionProcessor(type.module, options), type.name);
  const processor: unknown = await type.createProcessor(options);
  if (!isProcessor(processor)) {
    throw new UsageError(`task type "${type.name}" (plugin ${type.plugin}): its createProcessor did not return a processor`);
  }
  return processor;
}

/** A plugin's factory is checked by shape: it is outside this package's type checking. */
function isProcessor(value: unknown): value is Processor {
  if (typeof value !== 'object' || value === null) return false;
  const { name, start, close } = value as Record<keyof Processor, unknown>;
  return typeof name === 'string' && typeof start === 'function' && typeof close === 'function';
}

/** The function processor is named after its module; a task type's processor carries the type's name. */
function named(processor: Processor, name: string): Processor {
  return {
    name,
    ...(processor.takesAhead !== undefined && { takesAhead: processor.takesAhead }),
    start: (context) => processor.start(context),
    close: () => processor.close(),
  };
}
