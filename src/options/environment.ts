/**
 * The environment variables that set jobq's options, read in this one module
 * and validated as they come in (a bad value is a UsageError naming the
 * variable). Each option's resolver takes its value from here as the middle
 * layer of defaults < environment < given (STYLE practice 8); nothing else
 * reads these variables.
 *
 * Every field is undefined when its variable is unset or empty.
 */
import { UsageError } from '../errors.js';
import { MAX_DURATION_MS, MAX_TIMER_MS, parseDuration } from './duration.js';
import { flagFromEnv } from './flag.js';
import { countLimits } from './limits.js';

export interface JobqEnvironment {
  /** JOBQ_TIME_LIMIT: stop a worker gracefully after this long, ms. */
  readonly timeLimitMs: number | undefined;
  /** JOBQ_KILL_TIMEOUT: SIGKILL a task this long after its stop's SIGTERM, ms. */
  readonly killTimeoutMs: number | undefined;
  /** JOBQ_PREEMPTION_TIMEOUT: how long a worker braces after SIGTERM, ms. */
  readonly preemptionTimeoutMs: number | undefined;
  /** JOBQ_CONTROL_INTERVAL: how often workers look for control messages, ms (0: never). */
  readonly controlIntervalMs: number | undefined;
  /** JOBQ_MAX_DELIVERIES. */
  readonly maxDeliveries: number | undefined;
  /** JOBQ_DETERMINISTIC_IDS: false (or 0, no) gives random task ids. */
  readonly deterministicIds: boolean | undefined;
  /** JOBQ_NO_NATIVE_SPAWN=1: start shells through child_process, not the spawn addon. */
  readonly nativeSpawn: boolean | undefined;
  /** JOBQ_USE_LOGIN_SHELL=1: `bash --login -c`. */
  readonly loginShell: boolean | undefined;
  /** JOBQ_DEBUG=1: stack traces with every error. */
  readonly debug: boolean;
  /** JOBQ_LOG_LEVEL (checked by the CLI's --log-level flag, which reads it too). */
  readonly logLevel: string | undefined;
  /** NO_COLOR set (to anything): no colours on a terminal (no-color.org). */
  readonly noColor: boolean;
  /** JOBQ_HISTORY: 0 (or false, no, off) records no attempts in the queue's history. */
  readonly history: boolean | undefined;
  /** JOBQ_HISTORY_RETENTION: keep attempts this long, ms. */
  readonly historyMaxAgeMs: number | undefined;
  /** JOBQ_HISTORY_MAX_ATTEMPTS: keep at most this many attempts per queue. */
  readonly historyMaxAttempts: number | undefined;
  /** JOBQ_WORKER_ROW_INTERVAL: how often a worker rewrites its live row, ms (0: no row). */
  readonly workerRowIntervalMs: number | undefined;
  /** JOBQ_WORKER_ROW_RETENTION: delete the rows of workers gone this long, ms. */
  readonly workerRowRetentionMs: number | undefined;
  /** JOBQ_ENVIRONMENT_NAME: the fleet's name on worker rows (as ai4s-jobq groups a fleet). */
  readonly environmentName: string | undefined;
  /** JOBQ_METRICS_PORT: serve Prometheus /metrics on this port (0: any free port). */
  readonly metricsPort: number | undefined;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: send metrics and events over OTLP/HTTP to this base URL. */
  readonly otlpEndpoint: string | undefined;
  /** APPLICATIONINSIGHTS_CONNECTION_STRING: send events to Azure Monitor (a secret: never logged). */
  readonly azureMonitorConnectionString: string | undefined;
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A duration variable; one that becomes a timer is at most MAX_TIMER_MS (24 days), any other at most `maxMs`. */
function duration(env: NodeJS.ProcessEnv, name: string, maxMs = MAX_TIMER_MS): number | undefined {
  const value = text(env, name);
  return value === undefined ? undefined : parseDuration(value, name, maxMs);
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, max: number): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new UsageError(`invalid ${name} "${value}": expected a positive integer`);
  }
  if (number > max) throw new UsageError(`invalid ${name} "${value}": must be at most ${max}`);
  return number;
}

function port(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new UsageError(`invalid ${name} "${value}": expected a port number`);
  return number;
}

/** `1` is on; unset is undefined; anything else is off. */
function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = text(env, name);
  return value === undefined ? undefined : value === '1';
}

function deterministicIds(env: NodeJS.ProcessEnv): boolean | undefined {
  const value = text(env, 'JOBQ_DETERMINISTIC_IDS')?.toLowerCase();
  if (value === undefined) return undefined;
  return !(value === 'false' || value === '0' || value === 'no');
}

/** Reads and checks jobq's variables from `env` (default: this process's environment). */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): JobqEnvironment {
  const noNativeSpawn = flag(env, 'JOBQ_NO_NATIVE_SPAWN');
  return {
    timeLimitMs: duration(env, 'JOBQ_TIME_LIMIT'),
    killTimeoutMs: duration(env, 'JOBQ_KILL_TIMEOUT'),
    preemptionTimeoutMs: duration(env, 'JOBQ_PREEMPTION_TIMEOUT'),
    controlIntervalMs: duration(env, 'JOBQ_CONTROL_INTERVAL'),
    maxDeliveries: positiveInteger(env, 'JOBQ_MAX_DELIVERIES', countLimits.maxDeliveries),
    deterministicIds: deterministicIds(env),
    nativeSpawn: noNativeSpawn === undefined ? undefined : !noNativeSpawn,
    loginShell: flag(env, 'JOBQ_USE_LOGIN_SHELL'),
    debug: flag(env, 'JOBQ_DEBUG') ?? false,
    logLevel: text(env, 'JOBQ_LOG_LEVEL'),
    noColor: text(env, 'NO_COLOR') !== undefined,
    history: flagFromEnv(env, 'JOBQ_HISTORY'),
    historyMaxAgeMs: duration(env, 'JOBQ_HISTORY_RETENTION', MAX_DURATION_MS),
    historyMaxAttempts: positiveInteger(env, 'JOBQ_HISTORY_MAX_ATTEMPTS', countLimits.historyMaxAttempts),
    workerRowIntervalMs: duration(env, 'JOBQ_WORKER_ROW_INTERVAL'),
    workerRowRetentionMs: duration(env, 'JOBQ_WORKER_ROW_RETENTION', MAX_DURATION_MS),
    environmentName: text(env, 'JOBQ_ENVIRONMENT_NAME'),
    metricsPort: port(env, 'JOBQ_METRICS_PORT'),
    otlpEndpoint: text(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
    azureMonitorConnectionString: text(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING'),
  };
}
