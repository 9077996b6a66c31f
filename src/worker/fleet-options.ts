/**
 * The options of what a worker records about itself (SPEC §10), in three
 * layers as the loop's (src/worker/options.ts): given < environment <
 * defaults, checked here with messages that name the option.
 */
import type { JobqEnvironment } from '../options/environment.js';
import { MAX_DURATION_MS } from '../options/duration.js';
import { countLimits } from '../options/limits.js';
import { durationOption, integerOption } from '../options/validate.js';

export interface FleetOptions {
  /** Record each finished attempt in the queue's history (default true; JOBQ_HISTORY=0 turns it off). */
  history?: boolean;
  /** Keep attempts this long, ms (default 7 days; JOBQ_HISTORY_RETENTION). */
  historyMaxAgeMs?: number;
  /** Keep at most this many attempts per queue, the newest (default 1,000,000; JOBQ_HISTORY_MAX_ATTEMPTS). */
  historyMaxAttempts?: number;
  /**
   * Rewrite the worker's live row this often, ms (default 5 s;
   * JOBQ_WORKER_ROW_INTERVAL; 0: no row). A row not rewritten for three
   * intervals shows its worker as gone.
   */
  workerRowIntervalMs?: number;
  /** Delete the rows of workers gone this long, ms (default 1 day; JOBQ_WORKER_ROW_RETENTION). */
  workerRowRetentionMs?: number;
  /** The fleet's name on the worker's row (default JOBQ_ENVIRONMENT_NAME, else none). */
  environmentName?: string;
}

export type ResolvedFleetOptions = Required<Omit<FleetOptions, 'environmentName'>> & { readonly environmentName: string | null };

export const fleetDefaults = {
  history: true,
  historyMaxAgeMs: 7 * 24 * 3_600_000,
  historyMaxAttempts: 1_000_000,
  workerRowIntervalMs: 5_000,
  workerRowRetentionMs: 24 * 3_600_000,
} as const;

/** Shorter than this, rewriting rows would cost more than it tells. */
const minRowIntervalMs = 1_000;

export function resolveFleetOptions(options: FleetOptions, environment: JobqEnvironment): ResolvedFleetOptions {
  const d = fleetDefaults;
  const interval = options.workerRowIntervalMs ?? environment.workerRowIntervalMs ?? d.workerRowIntervalMs;
  return {
    history: options.history ?? environment.history ?? d.history,
    historyMaxAgeMs: durationOption(
      options.historyMaxAgeMs ?? environment.historyMaxAgeMs ?? d.historyMaxAgeMs,
      'historyMaxAgeMs',
      60_000,
      MAX_DURATION_MS,
    ),
    historyMaxAttempts: integerOption(
      options.historyMaxAttempts ?? environment.historyMaxAttempts ?? d.historyMaxAttempts,
      'historyMaxAttempts',
      1,
      countLimits.historyMaxAttempts,
    ),
    workerRowIntervalMs: interval === 0 ? 0 : durationOption(interval, 'workerRowIntervalMs', minRowIntervalMs),
    workerRowRetentionMs: durationOption(
      options.workerRowRetentionMs ?? environment.workerRowRetentionMs ?? d.workerRowRetentionMs,
      'workerRowRetentionMs',
      60_000,
      MAX_DURATION_MS,
    ),
    environmentName: options.environmentName ?? environment.environmentName ?? null,
  };
}
