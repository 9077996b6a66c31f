/**
 * `jobq bench` options in three layers (STYLE §8): what a caller may give
 * (`BenchOptions`), the defaults, and the resolved set, validated here.
 */
import os from 'node:os';
import { UsageError } from '../errors.js';
import { countLimits } from '../options/limits.js';
import type { BenchRun } from './summary.js';

export type BenchKind = 'shell' | 'function';

export const benchKinds: readonly BenchKind[] = ['shell', 'function'];

export interface BenchOptions {
  /** Task kinds to measure, in this order (default: shell, then function). */
  kinds?: readonly BenchKind[];
  /** Worker slot counts to measure (default: 1, 2, 4, … up to 4 per CPU, at most 32); measured in ascending order. */
  concurrencies?: readonly number[];
  /** Runs of each kind and concurrency, interleaved, whose spread is the measurement's noise (default 3). */
  repeats?: number;
  /** About how long the whole bench takes, s: each run's task count is sized from the rates measured so far (default 60). */
  seconds?: number;
  /** A fixed number of tasks per run instead, by kind (default: sized from `seconds`). */
  tasks?: Partial<Record<BenchKind, number>>;
  /** Task rates to size the first runs by, per second, before anything is measured (default: local rates; the CLI gives lower ones on Azure). */
  firstRates?: Partial<Record<BenchKind, number>>;
  /** Stops the bench: the runs measured so far are reported, the queue is emptied (default: none). */
  signal?: AbortSignal;
  /** Called after each run with it, the runs done and the runs planned (default: none). */
  onRun?: (run: BenchRun, done: number, planned: number) => void;
}

export interface ResolvedBenchOptions {
  readonly kinds: readonly BenchKind[];
  readonly concurrencies: readonly number[];
  readonly repeats: number;
  readonly seconds: number;
  readonly tasks: Readonly<Partial<Record<BenchKind, number>>>;
  readonly firstRates: Readonly<Record<BenchKind, number>>;
  readonly signal: AbortSignal | undefined;
  readonly onRun: (run: BenchRun, done: number, planned: number) => void;
}

/** 1, 2, 4, … up to 4 slots per CPU, at most 32: more slots than that only measure the scheduler. */
export function defaultConcurrencies(cpus = os.availableParallelism()): number[] {
  const counts: number[] = [];
  for (let count = 1; count <= Math.min(32, 4 * Math.max(1, cpus)); count *= 2) counts.push(count);
  return counts;
}

export const benchDefaults = {
  kinds: benchKinds,
  repeats: 3,
  seconds: 60,
  /** Conservative first guesses (this project's 2-core VM does 4x these), so that first runs are short. */
  firstRates: { shell: 250, function: 4000 },
} as const;

/** First guesses on Azure Storage: each task costs three round trips there. */
export const remoteFirstRates = { shell: 40, function: 40 } as const satisfies Record<BenchKind, number>;

function positive(value: number, name: string, max: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`${name} must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}

export function resolveBenchOptions(options: BenchOptions): ResolvedBenchOptions {
  const kinds = [...new Set(options.kinds ?? benchDefaults.kinds)];
  if (kinds.length === 0) throw new UsageError('kinds: give at least one task kind (shell, function)');
  const given = options.concurrencies ?? defaultConcurrencies();
  const concurrencies = [...new Set(given.map((c) => positive(c, 'concurrency', countLimits.numWorkers)))].sort((a, b) => a - b);
  if (concurrencies.length === 0) throw new UsageError('concurrency: give at least one worker count');
  const tasks: Partial<Record<BenchKind, number>> = {};
  for (const kind of benchKinds) {
    const count = options.tasks?.[kind];
    if (count !== undefined) tasks[kind] = positive(count, 'tasks', countLimits.benchTasks);
  }
  return {
    kinds,
    concurrencies,
    repeats: positive(options.repeats ?? benchDefaults.repeats, 'repeats', countLimits.benchRepeats),
    seconds: positive(options.seconds ?? benchDefaults.seconds, 'seconds', countLimits.benchSeconds),
    tasks,
    firstRates: { ...benchDefaults.firstRates, ...options.firstRates },
    signal: options.signal,
    onRun: options.onRun ?? (() => {}),
  };
}
