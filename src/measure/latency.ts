/**
 * Lease-to-settle latency: a backend decorator that notes when each message of
 * one queue is leased (the lease call has returned) and when it is settled
 * (complete or release has returned). It sits below the worker, so it measures
 * everything the worker does with a task: starting it, waiting for it,
 * heartbeats, settling.
 */
import type { Backend, Lease, QueueStore } from '../backends/backend.js';

export class LatencyRecorder {
  /** Lease-to-settle times of the settled messages, ms. */
  readonly samples: number[] = [];
  private readonly leasedAt = new Map<string, number>();
  private lastSettle = Number.NaN;

  /** @param onSettle called after each settle with the number settled so far. */
  constructor(private readonly onSettle: (settled: number) => void = () => {}) {}

  /** performance.now() of the last settle (NaN before the first). */
  get lastSettleAt(): number {
    return this.lastSettle;
  }

  leased(leases: readonly Lease[]): void {
    const now = performance.now();
    for (const lease of leases) this.leasedAt.set(lease.messageId, now);
  }

  settled(lease: Lease): void {
    const now = performance.now();
    const leasedAt = this.leasedAt.get(lease.messageId);
    if (leasedAt === undefined) return;
    this.leasedAt.delete(lease.messageId);
    this.samples.push(now - leasedAt);
    this.lastSettle = now;
    this.onSettle(this.samples.length);
  }
}

/** `store` with its leases and settles reported to `recorder`. */
function timedStore(store: QueueStore, recorder: LatencyRecorder): QueueStore {
  const putResult = store.putResult?.bind(store);
  const takeResults = store.takeResults?.bind(store);
  const beginPush = store.beginPush?.bind(store);
  return {
    name: store.name,
    create: () => store.create(),
    push: (bodies) => store.push(bodies),
    lease: async (max, visibilityMs) => {
      const leases = await store.lease(max, visibilityMs);
      recorder.leased(leases);
      return leases;
    },
    extend: (lease, visibilityMs) => store.extend(lease, visibilityMs),
    complete: async (lease) => {
      await store.complete(lease);
      recorder.settled(lease);
    },
    release: async (lease, body) => {
      await store.release(lease, body);
      recorder.settled(lease);
    },
    peek: (max) => store.peek(max),
    size: () => store.size(),
    clear: () => store.clear(),
    ...(putResult && { putResult }),
    ...(takeResults && { takeResults }),
    ...(beginPush && { beginPush }),
  };
}

/**
 * `backend` with the queue `name` timed by `recorder`; other queues (the
 * companions) pass through. Closing it leaves `backend` open: its owner closes it.
 */
export function timedBackend(backend: Backend, name: string, recorder: LatencyRecorder): Backend {
  return {
    description: backend.description,
    capabilities: backend.capabilities,
    queue: (queueName) => (queueName === name ? timedStore(backend.queue(queueName), recorder) : backend.queue(queueName)),
    close: async () => {},
  };
}
