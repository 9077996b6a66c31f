/**
 * Riding out an outage of the storage: an operation that fails with a
 * BackendError that is not permanent (the account or network is down, the
 * endpoint does not answer, a 429 or 503) is tried again, backing off from
 * 250 ms to 5 s, for as long as it takes, with one line about each failure.
 * The worker's loop does this for its own calls; this is the same for what
 * comes before it (opening the queue: creating it), so that a worker started
 * during an outage waits for the storage as a running one does. Anything
 * else (a permanent BackendError such as a deleted queue or a corrupt
 * database, a usage error, a refused JOBQ_HOME) is thrown at once.
 */
import { hasCode, isPermanentBackendError } from '../errors.js';
import { sleep } from '../timers/sleep.js';

export interface OutageRetryOptions {
  /** Called after each failure that will be retried, with the wait before the next try. */
  readonly onRetry: (err: unknown, delayMs: number) => void;
  /** Stops the retries: the last failure is thrown. */
  readonly signal?: AbortSignal;
  /** The first wait, ms (default 250); it doubles after each failure. */
  readonly firstDelayMs?: number;
  /** The longest wait, ms (default 5,000). */
  readonly maxDelayMs?: number;
}

/** Whether retrying can mend `err`: a backend failure that is not permanent. */
export function isOutage(err: unknown): boolean {
  return hasCode(err, 'BACKEND') && !isPermanentBackendError(err);
}

/** Runs `operation` until it succeeds, retrying through outages as described above. */
export async function retryThroughOutages<T>(operation: () => Promise<T>, options: OutageRetryOptions): Promise<T> {
  let delayMs = options.firstDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  for (;;) {
    try {
      return await operation();
    } catch (err) {
      if (!isOutage(err) || options.signal?.aborted) throw err;
      options.onRetry(err, delayMs);
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw err;
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}
