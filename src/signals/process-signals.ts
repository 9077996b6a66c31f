/**
 * The only place in jobq that listens to process signals: it forwards
 * SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 to a broker. Releasing the returned
 * handle stops the forwarding. With `untilExit`, the handlers then stay
 * installed, ignoring late signals, until the process exits: a process whose
 * job was this worker (the CLI) is finishing its cleanup, and a signal's
 * default action must not kill it and replace its exit code.
 */
import type { StopSource } from './broker.js';

const forwarded = ['SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGUSR2'] as const satisfies readonly (NodeJS.Signals & StopSource)[];

export interface SignalTarget {
  request(source: StopSource): void;
}

export interface ForwardOptions {
  /** Called with each signal received while forwarding (for a log line). */
  onSignal?: (signal: NodeJS.Signals) => void;
  /** Keep ignoring these signals after release, until the process exits (default false). */
  untilExit?: boolean;
}

export function forwardProcessSignals(target: SignalTarget, options: ForwardOptions = {}): { release(): void } {
  let forwarding = true;
  const handlers = forwarded.map((signal) => {
    const handler = (): void => {
      if (!forwarding) return;
      options.onSignal?.(signal);
      target.request(signal);
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
