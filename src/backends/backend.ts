/**
 * The storage interface every backend implements (SPEC §3). It is deliberately
 * narrow: a backend stores opaque message bodies in named queues and hands out
 * leases. It knows nothing of tasks, retries or dead-letter records; the layer
 * above (src/queue.ts) builds those from these operations.
 *
 * A lease is a message made invisible to others until `visibleUntil`. It is
 * identified by a token (Azure: the pop receipt). Every call that takes a lease
 * fails with LeaseLostError when the token is stale: the message was deleted,
 * or its lease expired and someone else leased it.
 */

export interface Lease {
  /** The backend's id of the message: stable across leases; a release may give it a new one (Azure). */
  readonly messageId: string;
  /** Proof of the current lease; a new one may be issued by `extend`. */
  readonly token: string;
  readonly body: string;
  /** Set when the stored body could not be read as text (not UTF-8); `body` then shows it with U+FFFD. */
  readonly bodyError?: string;
  /**
   * How many times the message has been leased since it was pushed or last
   * released, this lease included: `deliveries - 1` earlier deliveries ended
   * without any settlement (their worker died or lost the lease).
   */
  readonly deliveries: number;
}

export interface PeekedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly bodyError?: string;
  readonly deliveries: number;
}

import type { HistoryStore, WorkerRowStore } from './fleet.js';

/** What a backend can do beyond the required operations, declared once per backend. */
export interface BackendCapabilities {
  /** The most messages one `lease` call returns. */
  readonly maxLeaseBatch: number;
  /** The largest message body in UTF-8 bytes, or undefined for no limit. */
  readonly maxMessageBytes: number | undefined;
  /** The most messages `peek` returns. */
  readonly maxPeek: number;
  /** Whether queues keep task results (`putResult`/`takeResults`) for producers that wait. */
  readonly results: boolean;
  /** Whether queues take an all-or-nothing push of any size (`beginPush`); absent means no. */
  readonly atomicPush?: boolean;
  /** Whether a queue's messages can be read whole without leasing them (`QueueStore.scan`; `push --skip-queued`). */
  readonly scan: boolean;
  /** Whether the backend keeps each queue's attempt history (`Backend.history`; src/backends/fleet.ts). */
  readonly history: boolean;
  /** Whether the backend keeps each queue's live worker rows (`Backend.workerRows`). */
  readonly workerRows: boolean;
  /**
   * Whether stores implement `waitForPush` with notifications from the
   * backend (PostgreSQL's LISTEN/NOTIFY), so that an idle worker can wait for
   * a push instead of polling often.
   */
  readonly notifiesPushes: boolean;
}

/**
 * An all-or-nothing push (backends with `atomicPush`): messages are added in
 * chunks, as the input streams in, and none is visible to anyone until
 * `commit`, which makes all of them visible at once, in the order added. A
 * push that is neither committed nor aborted (its process died) leaves
 * nothing in the queue; what it staged is the backend's to clean up.
 */
export interface AtomicPush {
  /** Adds messages to the push; holds or stages them, invisible. */
  add(bodies: readonly string[]): Promise<void>;
  /** Makes every added message visible, or, if it fails, none of them. */
  commit(): Promise<void>;
  /** Discards every added message (idempotent; also after a failed add or commit). */
  abort(): Promise<void>;
}

/** One named queue on a backend. */
export interface QueueStore {
  readonly name: string;
  /** Creates the queue if it does not exist (idempotent). */
  create(): Promise<void>;
  /** Appends messages, visible at once. */
  push(bodies: readonly string[]): Promise<void>;
  /** Leases up to `max` visible messages for `visibilityMs`; [] when none is visible. */
  lease(max: number, visibilityMs: number): Promise<Lease[]>;
  /** Extends a lease to `visibilityMs` from now (a heartbeat); returns the lease with its new token. */
  extend(lease: Lease, visibilityMs: number): Promise<Lease>;
  /** Deletes a leased message (success, or after dead-lettering). */
  complete(lease: Lease): Promise<void>;
  /**
   * Makes a leased message visible again at once, with a new body if given.
   * Its deliveries start again from zero.
   */
  release(lease: Lease, body?: string): Promise<void>;
  /** Visible messages from the front of the queue, without leasing them. */
  peek(max: number): Promise<PeekedMessage[]>;
  /** The approximate number of messages, leased ones included. */
  size(): Promise<number>;
  /** Deletes every message. */
  clear(): Promise<void>;
  /** Stores the result of a task that asked for a reply (backends with `results`). */
  putResult?(taskId: string, result: string): Promise<void>;
  /** Removes and returns the stored results of these tasks, by task id (backends with `results`). */
  takeResults?(taskIds: readonly string[]): Promise<Map<string, string>>;
  /** Starts an all-or-nothing push (backends with `atomicPush`). */
  beginPush?(): Promise<AtomicPush>;
  /** Calls `visit` with the body of every message, leased ones included (backends with `scan`). */
  scan?(visit: (body: string) => void): Promise<void>;
  /**
   * Waits for a push (or a release) to this queue (backends with
   * `notifiesPushes`). Resolves when one is notified, at once if one was
   * notified since this store's last `lease` began (so a push between an empty
   * lease and the wait is not slept through), at `timeoutMs`, or when `signal`
   * aborts; never rejects. It may also resolve early (when the backend starts
   * listening, pushes before it may have gone unheard): callers lease again
   * after it in every case. Leases that expire are not notified: the timeout
   * is the caller's slow poll for those.
   */
  waitForPush?(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** A connection to a storage account or database, opening queues by name. */
export interface Backend {
  /** A short description for logs, such as `local:/home/u/.local/share/jobq/jobq.db`. */
  readonly description: string;
  readonly capabilities: BackendCapabilities;
  queue(name: string): QueueStore;
  /** The attempt history of the queue `name` (backends with `history`). */
  history?(name: string): HistoryStore;
  /** The live worker rows of the queue `name` (backends with `workerRows`). */
  workerRows?(name: string): WorkerRowStore;
  /** Writes what is buffered (history) and closes the connection. */
  close(): Promise<void>;
}
