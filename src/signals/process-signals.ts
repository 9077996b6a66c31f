/**
 * The only place in jobq that listens to process signals: it forwards them to
 * a broker. Returns a function that removes the handlers again.
 */
import type { SignalBroker, StopSource } from './broker.js';

const forwarded = ['SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGUSR2'] as const satisfies readonly (NodeJS.Signals & StopSource)[];

export function forwardProcessSignals(broker: SignalBroker, onSignal?: (signal: NodeJS.Signals) => void): () => void {
  const handlers = forwarded.map((signal) => {
    const handler = (): void => {
      onSignal?.(signal);
      broker.request(signal);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
