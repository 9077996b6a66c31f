/**
 * Task types by name. `shell` is built in; more come from plugins and module
 * paths (function tasks).
 */
import { UsageError } from '../errors.js';
import type { Processor } from './processor.js';
import { createShellProcessor } from './shell.js';

export interface ProcessorOptions {
  /** Slots that will run tasks at once (thread pools size themselves by it). */
  numWorkers: number;
  /** Run shell tasks under a pseudo-terminal. */
  emulateTty: boolean;
}

export async function createProcessor(name: string, options: ProcessorOptions): Promise<Processor> {
  if (name === 'shell') return createShellProcessor({ emulateTty: options.emulateTty });
  throw new UsageError(`unknown task type "${name}": available types are: shell`);
}
