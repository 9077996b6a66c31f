/**
 * How long a call to Azure Storage (a queue or a table) may wait for its
 * answer. The SDKs set no deadline of their own on the client side, so
 * without one a request to an endpoint that accepts connections and never
 * answers (a stalled proxy, a half-open connection after a network change)
 * waits for ever: a worker would hang without a word, and never come back
 * when the endpoint does.
 */

/**
 * One operation, every try of it included. The SDK's retries of refused
 * connections take about 4 s; a stalled endpoint takes all of it, so that a
 * worker or the CLI says so within 20 s.
 */
export const REQUEST_TIMEOUT_MS = 20_000;

/** A fresh deadline for one operation. */
export function requestDeadline(): AbortSignal {
  return AbortSignal.timeout(REQUEST_TIMEOUT_MS);
}

/**
 * The error an operation failed with, or, when its deadline cut it short
 * (the SDK then reports an abort), an error that says so.
 */
export function timedOut(err: unknown, deadline: AbortSignal): unknown {
  if (!deadline.aborted) return err;
  return new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`, { cause: err });
}
