/** Flags shared by `worker` and `pull`: how tasks run (SPEC §5). */
import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../options/duration.js';
import { countLimits } from '../options/limits.js';
import { workerDefaults, type WorkerOptions } from '../worker/options.js';

/** The longest lease: Azure's longest visibility timeout, 7 days. */
const MAX_VISIBILITY_MS = 7 * 86_400_000;

/** A duration flag; durations outside [minMs, maxMs] are refused with a message that names the flag and the bound. */
const duration = (name: string, minMs = 0, maxMs = MAX_DURATION_MS) =>
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
    default: workerDefaults.visibilityTimeoutMs,
    defaultHelp: async () => '10m',
  }),
  heartbeat: Flags.boolean({
    summary: 'Extend leases every visibility-timeout/2 while tasks run.',
    default: workerDefaults.heartbeat,
    allowNo: true,
  }),
  'max-deliveries': Flags.integer({
    summary: 'Dead-letter a task delivered this many times in a row without being settled (its worker died each time).',
    description: 'Releases and retries reset the count. Env JOBQ_MAX_DELIVERIES.',
    defaultHelp: async () => String(workerDefaults.maxDeliveries),
    min: 1,
    max: countLimits.maxDeliveries,
  }),
  proc: Flags.string({ summary: 'Task type that runs each task.', default: 'shell' }),
  'emulate-tty': Flags.boolean({ char: 't', summary: 'Run shell tasks under a pseudo-terminal.', default: false }),
};

/** The Worker options that `runFlags` set. */
export function runOptions(flags: {
  'visibility-timeout': number;
  heartbeat: boolean;
  'max-deliveries'?: number | undefined;
}): Pick<WorkerOptions, 'visibilityTimeoutMs' | 'heartbeat' | 'maxDeliveries'> {
  return {
    visibilityTimeoutMs: flags['visibility-timeout'],
    heartbeat: flags.heartbeat,
    ...(flags['max-deliveries'] === undefined ? {} : { maxDeliveries: flags['max-deliveries'] }),
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
    default: workerDefaults.maxConsecutiveFailures,
    min: 0,
    max: countLimits.maxConsecutiveFailures,
  }),
  'time-limit': duration('--time-limit')({
    summary: 'Stop gracefully after this long (<integer>[smhdw], at most 24d; env JOBQ_TIME_LIMIT, default 1d).',
  }),
};
