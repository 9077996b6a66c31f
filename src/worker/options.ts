/**
 * Worker options in three layers (STYLE §8): what a caller may give
 * (`WorkerOptions`, all optional), the defaults, and the resolved set
 * (`ResolvedWorkerOptions`). Precedence: defaults < environment < given.
 */
import type { Logger } from '../log/logger.js';
import { parseDuration } from '../options/duration.js';
import { UsageError } from '../errors.js';
import { scheduledEventsFromEnv } from '../signals/scheduled-events.js';

export interface WorkerOptions {
  /** Task slots in this process (default 1). */
  numWorkers?: number;
  /** Lease length, ms (default 10 min). */
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
  /** Stop gracefully after this long, ms (default JOBQ_TIME_LIMIT, else 1 day). */
  timeLimitMs?: number;
  /** SIGKILL a task this long after its stop SIGTERM, ms (default JOBQ_KILL_TIMEOUT, else 600 s). */
  killTimeoutMs?: number;
  /** How long to brace for a preemption after SIGTERM, ms (default JOBQ_PREEMPTION_TIMEOUT, else 120 s). */
  preemptionTimeoutMs?: number;
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
  /** Install handlers for SIGTERM, SIGINT, SIGUSR1, SIGUSR2 (default false; the CLI sets it). */
  handleSignals?: boolean;
  /** Keep a PID file for `jobq signal` (default false; the CLI sets it). */
  writePidFile?: boolean;
  /** Poll Azure scheduled events (default: from the environment, SPEC §6.2); false turns it off. */
  scheduledEvents?: { url: string; act: boolean } | false;
  /** How often to look for control messages (`jobq downscale`), ms (default JOBQ_CONTROL_INTERVAL, else 10 s); 0 turns it off. */
  controlIntervalMs?: number;
  /** Aborting stops the worker like SIGUSR2: running tasks are stopped and released. */
  signal?: AbortSignal;
  /** Where logs go (default: nowhere). */
  logger?: Logger;
}

export type IdlePolicy = 'exit' | 'wait-for-leased' | 'poll';

export interface ResolvedWorkerOptions {
  readonly numWorkers: number;
  readonly visibilityTimeoutMs: number;
  readonly heartbeat: boolean;
  readonly maxConsecutiveFailures: number;
  readonly maxDeliveries: number;
  readonly timeLimitMs: number;
  readonly killTimeoutMs: number;
  readonly preemptionTimeoutMs: number;
  readonly whenIdle: IdlePolicy;
  readonly maxTasks: number;
  readonly maxIdlePollMs: number;
  readonly handleSignals: boolean;
  readonly writePidFile: boolean;
  readonly scheduledEvents: { readonly url: string; readonly act: boolean } | false;
  readonly controlIntervalMs: number;
}

export const workerDefaults: ResolvedWorkerOptions = {
  numWorkers: 1,
  visibilityTimeoutMs: 10 * 60_000,
  heartbeat: true,
  maxConsecutiveFailures: 2,
  maxDeliveries: 20,
  timeLimitMs: 86_400_000,
  killTimeoutMs: 600_000,
  preemptionTimeoutMs: 120_000,
  whenIdle: 'wait-for-leased',
  maxTasks: Number.POSITIVE_INFINITY,
  maxIdlePollMs: 5_000,
  handleSignals: false,
  writePidFile: false,
  scheduledEvents: false,
  controlIntervalMs: 10_000,
};

function fromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : parseDuration(value, name);
}

function integerFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new UsageError(`invalid ${name} "${value}": expected a positive integer`);
  }
  return number;
}

function positiveInteger(value: number, name: string, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${name} must be an integer of at least ${min}, got ${value}`);
  }
  return value;
}

export function resolveWorkerOptions(
  options: WorkerOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedWorkerOptions {
  const d = workerDefaults;
  return {
    numWorkers: positiveInteger(options.numWorkers ?? d.numWorkers, 'numWorkers'),
    visibilityTimeoutMs: positiveInteger(options.visibilityTimeoutMs ?? d.visibilityTimeoutMs, 'visibilityTimeoutMs', 1000),
    heartbeat: options.heartbeat ?? d.heartbeat,
    maxConsecutiveFailures: positiveInteger(
      options.maxConsecutiveFailures ?? d.maxConsecutiveFailures,
      'maxConsecutiveFailures',
      0,
    ),
    maxDeliveries: positiveInteger(
      options.maxDeliveries ?? integerFromEnv(env, 'JOBQ_MAX_DELIVERIES') ?? d.maxDeliveries,
      'maxDeliveries',
    ),
    timeLimitMs: options.timeLimitMs ?? fromEnv(env, 'JOBQ_TIME_LIMIT') ?? d.timeLimitMs,
    killTimeoutMs: options.killTimeoutMs ?? fromEnv(env, 'JOBQ_KILL_TIMEOUT') ?? d.killTimeoutMs,
    preemptionTimeoutMs: options.preemptionTimeoutMs ?? fromEnv(env, 'JOBQ_PREEMPTION_TIMEOUT') ?? d.preemptionTimeoutMs,
    whenIdle: options.whenIdle ?? d.whenIdle,
    maxTasks: options.maxTasks === undefined ? d.maxTasks : positiveInteger(options.maxTasks, 'maxTasks'),
    maxIdlePollMs: options.maxIdlePollMs ?? d.maxIdlePollMs,
    handleSignals: options.handleSignals ?? d.handleSignals,
    writePidFile: options.writePidFile ?? d.writePidFile,
    scheduledEvents: options.scheduledEvents ?? scheduledEventsFromEnv(env) ?? d.scheduledEvents,
    controlIntervalMs: options.controlIntervalMs ?? fromEnv(env, 'JOBQ_CONTROL_INTERVAL') ?? d.controlIntervalMs,
  };
}
