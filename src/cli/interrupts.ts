/**
 * Ctrl-C (SIGINT) and SIGTERM for commands that are not workers (`push`,
 * `bench`): instead of dying mid-way, the command's work gets an AbortSignal,
 * stops, says what it did, and the process exits 130 (SIGINT) or 143
 * (SIGTERM). The signals come through the one place that listens to them
 * (src/signals/process-signals.ts); a second signal while the work winds down
 * exits at once.
 */
import { forwardProcessSignals } from '../signals/process-signals.js';
import { defaultSignalMap } from '../signals/signal-map.js';

/** 128 + the signal's number, as a shell reports a process killed by it. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

/**
 * Runs `work` with a signal that aborts on the first SIGINT or SIGTERM (its
 * reason is the signal's name). When it was aborted, the exit code is set to
 * the signal's, whatever `work` did.
 */
export async function withInterrupts<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  // Only SIGINT and SIGTERM, as they mean by default: this command has no tasks to stop or drain.
  const map = new Map([...defaultSignalMap].filter(([signal]) => signal === 'SIGINT' || signal === 'SIGTERM'));
  const forwarding = forwardProcessSignals(
    {
      request: (source) => {
        const signal = source === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
        if (controller.signal.aborted) process.exit(exitCodeForSignal(signal));
        controller.abort(signal);
      },
    },
    { map },
  );
  try {
    return await work(controller.signal);
  } finally {
    forwarding.release();
    const reason: unknown = controller.signal.reason;
    if (controller.signal.aborted && typeof reason === 'string') process.exitCode = exitCodeForSignal(reason as NodeJS.Signals);
  }
}
