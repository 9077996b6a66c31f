/**
 * The worker loop's options in three layers (STYLE practice 8): what a caller
 * may give (`LoopOptions`, all optional), the defaults (`loopDefaults`), and
 * the resolved set. Precedence: defaults < environment < given. Every value
 * is checked here, where it comes in, with a message that names the option.
 */
import { UsageError } from '../errors.js';
import type { JobqEnvironment } from '../options/environment.js';
import { countLimits } from '../options/limits.js';
import { durationOption, integerOption } from '../options/validate.js';

export type IdlePolicy = 'exit' | 'wait-for-leased' | 'poll';

export interface LoopOptions {
  /** Task slots in this process (default 1, at most 4,096). */
  numWorkers?: number;
  /** Lease length, ms (default 10 min; at least 1 s). */
  visibilityTimeoutMs?: number;
  /** Extend leases every visibilityTimeout/2 while tasks run (default true). */
  heartbeat?: boolean;
  /** Stop with exit code 1 when consecutive failures exceed this (default 2). */
  maxConsecutiveFailures?: number;
  /**
   * Dead-letter, without running it, a task delivered more than this many
   * times in a row without being settled: its worker died each time (killed
   * for memory, a crash) or lost the lease. Releases and retries reset the
   * count. Default JOBQ_MAX_DELIVERIES, else 20.
   */
  maxDeliveries?: number;
  /** SIGKILL a task this long after its stop's SIGTERM, ms (default JOBQ_KILL_TIMEOUT, else 600 s). */
  killTimeoutMs?: number;
  /**
   * What a slot does when no task is visible (default `wait-for-leased`):
   * `exit` at once; `wait-for-leased` polls while tasks are leased by others
   * (they may come back) and exits when the queue is empty; `poll` forever.
   */
  whenIdle?: IdlePolicy;
  /** Lease at most this many tasks in all, then end (default: no limit). */
  maxTasks?: number;
  /** Longest pause between polls of a queue whose tasks are all leased, ms (default 5 s). */
  maxIdlePollMs?: number;
}

export type ResolvedLoopOptions = { readonly [K in keyof LoopOptions]-?: Exclude<LoopOptions[K], undefined> };


export const loopDefaults: ResolvedLoopOptions = {
  numWorkers: 1,
  visibilityTimeoutMs: 10 * 60_000,
  heartbeat: true,
  maxConsecutiveFailures: 2,
  maxDeliveries: 20,
  killTimeoutMs: 600_000,
  whenIdle: 'wait-for-leased',
  maxTasks: Number.POSITIVE_INFINITY,
  maxIdlePollMs: 5_000,
};

/** Azure's longest lease (7 days) bounds every backend's. */
const maxVisibilityMs = 7 * 24 * 3_600_000;

const idlePolicies: readonly IdlePolicy[] = ['exit', 'wait-for-leased', 'poll'];

export function resolveLoopOptions(options: LoopOptions, environment: JobqEnvironment): ResolvedLoopOptions {
  const d = loopDefaults;
  const whenIdle = options.whenIdle ?? d.whenIdle;
  if (!idlePolicies.includes(whenIdle)) throw new UsageError(`whenIdle must be one of ${idlePolicies.join(', ')}, got ${String(whenIdle)}`);
  return {
    numWorkers: integerOption(options.numWorkers ?? d.numWorkers, 'numWorkers', 1, countLimits.numWorkers),
    visibilityTimeoutMs: durationOption(options.visibilityTimeoutMs ?? d.visibilityTimeoutMs, 'visibilityTimeoutMs', 1000, maxVisibilityMs),
    heartbeat: options.heartbeat ?? d.heartbeat,
    maxConsecutiveFailures: integerOption(
      options.maxConsecutiveFailures ?? d.maxConsecutiveFailures,
      'maxConsecutiveFailures',
      0,
      countLimits.maxConsecutiveFailures,
    ),
    maxDeliveries: integerOption(
      options.maxDeliveries ?? environment.maxDeliveries ?? d.maxDeliveries,
      'maxDeliveries',
      1,
      countLimits.maxDeliveries,
    ),
    killTimeoutMs: durationOption(options.killTimeoutMs ?? environment.killTimeoutMs ?? d.killTimeoutMs, 'killTimeoutMs'),
    whenIdle,
    maxTasks: options.maxTasks === undefined ? d.maxTasks : integerOption(options.maxTasks, 'maxTasks', 1),
    maxIdlePollMs: durationOption(options.maxIdlePollMs ?? d.maxIdlePollMs, 'maxIdlePollMs', 1),
  };
}
