/**
 * How long a call to Azure Storage (a queue or a table) may wait for its
 * answer. The SDKs set no deadline of their own on the client side, so
 * without one a request to an endpoint that accepts connections and never
 * answers (a stalled proxy, a half-open connection after a network change)
 * waits for ever: a worker would hang without a word, and never come back
 * when the endpoint does.
 */
import { setMaxListeners } from 'node:events';

/**
 * One operation, every try of it included. The SDK's retries of refused
 * connections take about 4 s; a stalled endpoint takes all of it, so that a
 * worker or the CLI says so within 20 s.
 */
export const REQUEST_TIMEOUT_MS = 20_000;

/**
 * Operations that start within this long of each other share one deadline,
 * which ends this much later: each still has REQUEST_TIMEOUT_MS at least. A
 * timer of its own cost each request ~40 µs of the main thread, about a
 * thirtieth of what a no-op task costs the worker on Azurite.
 */
const sharedForMs = 250;

let shared: { readonly signal: AbortSignal; readonly until: number } | undefined;

/** The deadline of an operation that starts now. */
export function requestDeadline(): AbortSignal {
  const now = performance.now();
  if (shared === undefined || now >= shared.until) {
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS + sharedForMs);
    // Every request in flight listens to it: no leak, however many (Node warns past 10).
    setMaxListeners(0, signal);
    shared = { signal, until: now + sharedForMs };
  }
  return shared.signal;
}

/**
 * The error an operation failed with, or, when its deadline cut it short
 * (the SDK then reports an abort), an error that says so.
 */
export function timedOut(err: unknown, deadline: AbortSignal): unknown {
  if (!deadline.aborted) return err;
  return new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`, { cause: err });
}
