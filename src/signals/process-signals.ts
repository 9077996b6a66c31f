/**
 * The only place in jobq that listens to process signals: it forwards them to
 * a broker as the signal map says (SPEC §6.1; JOBQ_SIGNAL_MAP may give a
 * signal another meaning on a scheduler, or `ignore` it). Releasing the
 * returned handle stops the forwarding. With `untilExit`, the handlers then
 * stay installed, ignoring late signals, until the process exits: a process
 * whose job was this worker (the CLI) is finishing its cleanup, and a
 * signal's default action must not kill it and replace its exit code.
 */
import type { StopSource } from './broker.js';
import { defaultSignalMap, type SignalAction, type SignalMap } from './signal-map.js';

export interface SignalTarget {
  request(source: StopSource): void;
}

export interface ForwardOptions {
  /** What each signal means (default: SIGTERM preempt, SIGINT interrupt, SIGUSR1 drain, SIGUSR2 stop). */
  map?: SignalMap;
  /** Called with each signal received while forwarding, and what it means (for a log line). */
  onSignal?: (signal: NodeJS.Signals, action: SignalAction) => void;
  /** Keep ignoring these signals after release, until the process exits (default false). */
  untilExit?: boolean;
}

/** The stop each action asks for: the one its signal asks for by default. */
const sourceOf: Record<Exclude<SignalAction, 'ignore'>, StopSource> = {
  preempt: 'SIGTERM',
  interrupt: 'SIGINT',
  drain: 'SIGUSR1',
  stop: 'SIGUSR2',
};

export function forwardProcessSignals(target: SignalTarget, options: ForwardOptions = {}): { release(): void } {
  let forwarding = true;
  const handlers = [...(options.map ?? defaultSignalMap)].map(([signal, action]) => {
    const handler = (): void => {
      if (!forwarding) return;
      options.onSignal?.(signal, action);
      if (action !== 'ignore') target.request(sourceOf[action]);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
  return {
    release() {
      if (!forwarding) return;
      forwarding = false;
      // Signal handlers do not keep the event loop alive, so ignoring ones may stay until the end.
      if (options.untilExit) process.once('exit', remove);
      else remove();
    },
  };
}
