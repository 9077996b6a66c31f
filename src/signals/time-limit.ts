/** The time limit (SPEC §6.1): a stop source that asks for a graceful stop once the worker has run this long. */
import type { Logger } from '../log/logger.js';
import type { StopSource } from './broker.js';

/** Starts the timer; returns the function that clears it. */
export function startTimeLimit(
  limitMs: number,
  target: { request(source: StopSource): void },
  logger: Logger,
): () => void {
  const timer = setTimeout(
    () => {
      logger.warn({ event: 'time_limit' }, 'time limit reached');
      target.request('time-limit');
    },
    // setTimeout takes at most 2^31 - 1 ms (24.8 days); a longer limit never fires within a run that long.
    Math.min(limitMs, 2 ** 31 - 1),
  );
  timer.unref();
  return () => clearTimeout(timer);
}
