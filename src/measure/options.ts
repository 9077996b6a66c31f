/**
 * `jobq bench` options in three layers (STYLE §8): what a caller may give
 * (`BenchOptions`), the defaults, and the resolved set, validated here.
 */
import { UsageError } from '../errors.js';
import { countLimits } from '../options/limits.js';

export type BenchKind = 'shell' | 'function';

export const benchKinds: readonly BenchKind[] = ['shell', 'function'];

export interface BenchOptions {
  /** Task kinds to measure, in this order (default: shell, then function). */
  kinds?: readonly BenchKind[];
  /** Worker slot counts to measure, each 1 to countLimits.numWorkers (default 1, 2, 4, 8, 16, 32); measured in ascending order. */
  concurrencies?: readonly number[];
  /** Tasks per run, by kind (default 1,000 shell and 10,000 function tasks; the CLI gives 200 each on Azure). */
  tasks?: Partial<Record<BenchKind, number>>;
  /** Called as tasks settle: tasks settled in all runs so far, and the total of all runs. */
  onProgress?: (done: number, total: number) => void;
}

export interface ResolvedBenchOptions {
  readonly kinds: readonly BenchKind[];
  readonly concurrencies: readonly number[];
  readonly tasks: Readonly<Record<BenchKind, number>>;
  readonly onProgress: (done: number, total: number) => void;
}

export const benchDefaults = {
  kinds: benchKinds,
  concurrencies: [1, 2, 4, 8, 16, 32],
  tasks: { shell: 1000, function: 10_000 },
} as const satisfies Pick<ResolvedBenchOptions, 'kinds' | 'concurrencies' | 'tasks'>;

/**
 * Tasks per run on Azure Storage: each task costs three round trips there, and
 * Azurite slows down after thousands of deletes, so that a whole bench stays
 * within a few thousand tasks.
 */
export const remoteBenchTasks = { shell: 200, function: 200 } as const satisfies Record<BenchKind, number>;

function positive(value: number, name: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`${name} must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}

export function resolveBenchOptions(options: BenchOptions): ResolvedBenchOptions {
  const kinds = [...new Set(options.kinds ?? benchDefaults.kinds)];
  if (kinds.length === 0) throw new UsageError('kinds: give at least one task kind (shell, function)');
  const given = options.concurrencies ?? benchDefaults.concurrencies;
  const concurrencies = [...new Set(given.map((c) => positive(c, 'concurrency', countLimits.numWorkers)))].sort((a, b) => a - b);
  if (concurrencies.length === 0) throw new UsageError('concurrency: give at least one worker count');
  return {
    kinds,
    concurrencies,
    tasks: {
      shell: positive(options.tasks?.shell ?? benchDefaults.tasks.shell, 'tasks', countLimits.benchTasks),
      function: positive(options.tasks?.function ?? benchDefaults.tasks.function, 'tasks', countLimits.benchTasks),
    },
    onProgress: options.onProgress ?? (() => {}),
  };
}
