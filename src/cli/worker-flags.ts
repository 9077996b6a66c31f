/** Flags shared by `worker` and `pull`: how tasks run (SPEC §5). */
import { Flags } from '@oclif/core';
import { parseDuration } from '../options/duration.js';
import { workerDefaults } from '../worker/options.js';

const duration = (name: string) => Flags.custom<number>({ parse: async (text) => parseDuration(text, name) });

export const runFlags = {
  'visibility-timeout': duration('--visibility-timeout')({
    summary: 'How long a leased task stays invisible to other workers (<integer>[smhdw]).',
    default: workerDefaults.visibilityTimeoutMs,
    defaultHelp: async () => '10m',
  }),
  heartbeat: Flags.boolean({
    summary: 'Extend leases every visibility-timeout/2 while tasks run.',
    default: workerDefaults.heartbeat,
    allowNo: true,
  }),
  proc: Flags.string({ summary: 'Task type that runs each task.', default: 'shell' }),
  'emulate-tty': Flags.boolean({ char: 't', summary: 'Run shell tasks under a pseudo-terminal.', default: false }),
};

export const workerFlags = {
  ...runFlags,
  'num-workers': Flags.integer({ char: 'n', summary: 'Task slots in this process.', default: 1, min: 1 }),
  'max-consecutive-failures': Flags.integer({
    summary: 'Stop (exit 1) when consecutive failures exceed this.',
    default: workerDefaults.maxConsecutiveFailures,
    min: 0,
  }),
  'time-limit': duration('--time-limit')({
    summary: 'Stop gracefully after this long (<integer>[smhdw]; env JOBQ_TIME_LIMIT, default 1d).',
  }),
};
