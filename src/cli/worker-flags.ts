/** Flags shared by `worker` and `pull`: how tasks run (SPEC §5). */
import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import { formatDuration, parseDuration } from '../options/duration.js';
import { loopDefaults, type LoopOptions } from '../worker/options.js';

/** A duration flag; `minMs` refuses shorter ones with a message that names the flag. */
const duration = (name: string, minMs = 0) =>
  Flags.custom<number>({
    parse: async (text) => {
      const ms = parseDuration(text, name);
      if (ms < minMs) throw new UsageError(`invalid ${name} "${text}": must be at least ${formatDuration(minMs)}`);
      return ms;
    },
  });

export const runFlags = {
  'visibility-timeout': duration('--visibility-timeout', 1000)({
    summary: 'How long a leased task stays invisible to other workers (<integer>[smhdw]).',
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
  }),
  proc: Flags.string({ summary: 'Task type that runs each task.', default: 'shell' }),
  'emulate-tty': Flags.boolean({ char: 't', summary: 'Run shell tasks under a pseudo-terminal.', default: false }),
};

/** The Worker options that `runFlags` set. */
export function runOptions(flags: {
  'visibility-timeout': number;
  heartbeat: boolean;
  'max-deliveries'?: number | undefined;
}): Pick<LoopOptions, 'visibilityTimeoutMs' | 'heartbeat' | 'maxDeliveries'> {
  return {
    visibilityTimeoutMs: flags['visibility-timeout'],
    heartbeat: flags.heartbeat,
    ...(flags['max-deliveries'] === undefined ? {} : { maxDeliveries: flags['max-deliveries'] }),
  };
}

export const workerFlags = {
  ...runFlags,
  'num-workers': Flags.integer({ char: 'n', summary: 'Task slots in this process.', default: 1, min: 1 }),
  'max-consecutive-failures': Flags.integer({
    summary: 'Stop (exit 1) when consecutive failures exceed this.',
    default: loopDefaults.maxConsecutiveFailures,
    min: 0,
  }),
  'time-limit': duration('--time-limit')({
    summary: 'Stop gracefully after this long (<integer>[smhdw]; env JOBQ_TIME_LIMIT, default 1d).',
  }),
};
