/** Flags shared by `worker` and `pull`: how tasks run (SPEC §5). */
import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import { formatDuration, MAX_DURATION_MS, MAX_TIMER_MS, parseDuration } from '../options/duration.js';
import { countLimits } from '../options/limits.js';
import { fleetDefaults, type FleetOptions } from '../worker/fleet-options.js';
import type { MetricsOptions } from '../metrics/options.js';
import { loopDefaults, type LoopOptions } from '../worker/options.js';

/** The longest lease: Azure's longest visibility timeout, 7 days. */
const MAX_VISIBILITY_MS = 7 * 86_400_000;

/**
 * A duration flag; durations outside [minMs, maxMs] are refused with a
 * message that names the flag and the bound. The default maximum is a
 * timer's (MAX_TIMER_MS, 24 days).
 */
const duration = (name: string, minMs = 0, maxMs = MAX_TIMER_MS) =>
  Flags.custom<number>({
    parse: async (text) => {
      const ms = parseDuration(text, name, maxMs);
      if (ms < minMs) throw new UsageError(`invalid ${name} "${text}": must be at least ${formatDuration(minMs)}`);
      return ms;
    },
  });

export const runFlags = {
  'visibility-timeout': duration('--visibility-timeout', 1000, MAX_VISIBILITY_MS)({
    summary: 'How long a leased task stays invisible to other workers (<integer>[smhdw], 1s to 7d).',
    default: loopDefaults.visibilityTimeoutMs,
    defaultHelp: async () => '10m',
  }),
  heartbeat: Flags.boolean({
    summary: 'Extend leases every visibility-timeout/2 while tasks run.',
    default: loopDefaults.heartbeat,
    allowNo: true,
  }),
  'max-deliveries': Flags.integer({
    summary: 'Dead-letter a task delivered this many times in a row without being settled (its worker died each time).',
    description: 'Releases and retries reset the count. Env JOBQ_MAX_DELIVERIES.',
    defaultHelp: async () => String(loopDefaults.maxDeliveries),
    min: 1,
    max: countLimits.maxDeliveries,
  }),
  proc: Flags.string({ summary: 'Task type that runs each task.', default: 'shell' }),
  history: Flags.boolean({
    summary: "Record each finished attempt in the queue's history (env JOBQ_HISTORY; default on).",
    allowNo: true,
  }),
  'history-retention': duration('--history-retention', 60_000, MAX_DURATION_MS)({
    summary: 'Keep attempts in the history this long (<integer>[smhdw]; env JOBQ_HISTORY_RETENTION, default 7d).',
  }),
  'history-max-attempts': Flags.integer({
    summary: `Keep at most this many attempts per queue (env JOBQ_HISTORY_MAX_ATTEMPTS, default ${fleetDefaults.historyMaxAttempts}).`,
    min: 1,
    max: countLimits.historyMaxAttempts,
  }),
  'worker-row-interval': duration('--worker-row-interval')({
    summary: "Rewrite this worker's live row this often; 0 for none (<integer>[smhdw]; env JOBQ_WORKER_ROW_INTERVAL, default 5s).",
  }),
  'environment-name': Flags.string({
    summary: "The fleet's name on this worker's row (env JOBQ_ENVIRONMENT_NAME).",
  }),
  'emulate-tty': Flags.boolean({ char: 't', summary: 'Run shell tasks under a pseudo-terminal.', default: false }),
};

/** The Worker options that `runFlags` set. */
export function runOptions(flags: {
  'visibility-timeout': number;
  heartbeat: boolean;
  'max-deliveries'?: number | undefined;
  history?: boolean | undefined;
  'history-retention'?: number | undefined;
  'history-max-attempts'?: number | undefined;
  'worker-row-interval'?: number | undefined;
  'environment-name'?: string | undefined;
}): Pick<LoopOptions, 'visibilityTimeoutMs' | 'heartbeat' | 'maxDeliveries'> & FleetOptions {
  const given = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  return {
    visibilityTimeoutMs: flags['visibility-timeout'],
    heartbeat: flags.heartbeat,
    ...given('maxDeliveries', flags['max-deliveries']),
    ...given('history', flags.history),
    ...given('historyMaxAgeMs', flags['history-retention']),
    ...given('historyMaxAttempts', flags['history-max-attempts']),
    ...given('workerRowIntervalMs', flags['worker-row-interval']),
    ...given('environmentName', flags['environment-name']),
  };
}

export const workerFlags = {
  ...runFlags,
  'num-workers': Flags.integer({
    char: 'n',
    summary: `Task slots in this process (at most ${countLimits.numWorkers}).`,
    default: 1,
    min: 1,
    max: countLimits.numWorkers,
  }),
  'max-consecutive-failures': Flags.integer({
    summary: 'Stop (exit 1) when consecutive failures exceed this.',
    default: loopDefaults.maxConsecutiveFailures,
    min: 0,
    max: countLimits.maxConsecutiveFailures,
  }),
  'time-limit': duration('--time-limit')({
    summary: 'Stop gracefully after this long (<integer>[smhdw], at most 24d; env JOBQ_TIME_LIMIT, default 1d).',
  }),
  'wait-for-tasks': Flags.boolean({
    summary: 'On an empty queue, wait for new tasks instead of exiting (a standing fleet; until a stop or the time limit).',
    description: 'Polls every 5 s at most; on PostgreSQL an idle worker wakes at once when a task is pushed.',
    default: false,
  }),
  'metrics-port': Flags.integer({
    summary: 'Serve Prometheus /metrics on this port (0: any free port; env JOBQ_METRICS_PORT; default none).',
    description: 'OTEL_EXPORTER_OTLP_ENDPOINT sends metrics and events over OTLP, APPLICATIONINSIGHTS_CONNECTION_STRING events to Azure Monitor.',
    min: 0,
    max: 65_535,
  }),
  'metrics-host': Flags.string({ summary: 'The address /metrics listens on (0.0.0.0 for a scraper on another machine).', default: '127.0.0.1' }),
};

/** The Worker options that the metrics flags set. */
export function metricsOptions(flags: { 'metrics-port'?: number | undefined; 'metrics-host': string }): MetricsOptions {
  return { metricsHost: flags['metrics-host'], ...(flags['metrics-port'] !== undefined && { metricsPort: flags['metrics-port'] }) };
}
