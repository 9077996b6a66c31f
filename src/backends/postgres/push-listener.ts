/**
 * One LISTEN connection per backend, shared by the `waitForPush` of every
 * queue and every slot: pushes and releases notify the schema's channel with
 * the queue's name (write-batch.ts), and this wakes the waiters of that queue.
 *
 * States: `stopped` until the first store marks or waits; then `connecting`
 * → `listening`; a connection error, its end, or a failed health check (a
 * `SELECT 1` every 30 s, since keepalive takes minutes to notice a dead TCP
 * connection) → `retrying` after a backoff (0.5 s doubling to 30 s) →
 * `connecting`; `close()` → `closed` from any state, waking every waiter.
 *
 * Each notification, and each start of LISTEN (notifications may have gone
 * unheard before it), is an event with a sequence number. A store takes the
 * sequence (`mark`) before each lease; a wait after a lease that found nothing
 * returns at once if the queue had an event since the mark, so a push that
 * lands between the empty lease and the wait is never slept through. Waits
 * also end at their timeout (the caller's slow poll, which finds leases that
 * expired: those are not notified) or on abort, and never reject.
 */
import type pg from 'pg';

type ListenerState = 'stopped' | 'connecting' | 'listening' | 'retrying' | 'closed';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
const HEALTH_CHECK_MS = 30_000;
/** pg reads `query_timeout` from a query's config too; @types/pg does not list it. */
const healthCheck: pg.QueryConfig & { query_timeout: number } = { text: 'SELECT 1', query_timeout: 10_000 };

export class PushListener {
  private state: ListenerState = 'stopped';
  private sequence = 0;
  /** The sequence of the last start of LISTEN: every queue may have missed pushes before it. */
  private listenedAt = 0;
  private readonly lastEvent = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private client: pg.Client | undefined;
  private retryMs = FIRST_RETRY_MS;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param connect opens a new connected client (the listener owns it).
   * @param channel the channel to LISTEN on (the schema's name).
   */
  constructor(
    private readonly connect: () => Promise<pg.Client>,
    private readonly channel: string,
  ) {}

  /** The current sequence, taken by a store before it leases; starts listening. */
  mark(): number {
    this.start();
    return this.sequence;
  }

  /** Whether `queue` had an event (a notification, or LISTEN starting) after `mark`. */
  private eventSince(queue: string, mark: number): boolean {
    return Math.max(this.lastEvent.get(queue) ?? 0, this.listenedAt) > mark;
  }

  /**
   * Resolves when `queue` has an event after `mark` (at once if it had one
   * already), at the timeout, on abort, or when the listener closes.
   */
  wait(queue: string, mark: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    this.start();
    if (this.state === 'closed' || signal?.aborted || this.eventSince(queue, mark)) return Promise.resolve();
    let waiting = this.waiters.get(queue);
    if (!waiting) this.waiters.set(queue, (waiting = new Set()));
    const queueWaiters = waiting;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', done);
        queueWaiters.delete(done);
        if (queueWaiters.size === 0 && this.waiters.get(queue) === queueWaiters) this.waiters.delete(queue);
        resolve();
      };
      const timeout = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener('abort', done, { once: true });
      queueWaiters.add(done);
    });
  }

  /** Stops listening and wakes every waiter; the connection is ended. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.wake(undefined);
    const client = this.client;
    this.client = undefined;
    if (client) await this.dispose(client);
  }

  private start(): void {
    if (this.state === 'stopped') void this.listen();
  }

  private async listen(): Promise<void> {
    this.state = 'connecting';
    let client: pg.Client | undefined;
    try {
      client = await this.connect();
      if (this.isClosed()) {
        await this.dispose(client);
        return;
      }
      client.on('notification', (message) => {
        if (message.channel === this.channel && message.payload !== undefined) this.event(message.payload);
      });
      client.on('error', () => this.lost(client));
      client.on('end', () => this.lost(client));
      this.client = client;
      await client.query(`LISTEN "${this.channel}"`);
    } catch {
      // lost() may have handled it already (the connection's error event came first).
      if (this.client === client) this.client = undefined;
      if (client) await this.dispose(client);
      if (this.state === 'connecting') this.retry();
      return;
    }
    if (this.isClosed() || this.client !== client) return;
    this.state = 'listening';
    this.retryMs = FIRST_RETRY_MS;
    this.listenedAt = ++this.sequence;
    this.wake(undefined);
    this.scheduleHealthCheck(client);
  }

  /** Whether close() ran (a check after an await: the state may have changed meanwhile). */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private event(queue: string): void {
    this.lastEvent.set(queue, ++this.sequence);
    this.wake(queue);
  }

  /** Wakes the waiters of `queue`, or of every queue. */
  private wake(queue: string | undefined): void {
    const sets = queue === undefined ? [...this.waiters.values()] : [this.waiters.get(queue)];
    for (const set of sets) for (const done of [...(set ?? [])]) done();
  }

  private scheduleHealthCheck(client: pg.Client): void {
    this.timer = setTimeout(() => {
      client.query(healthCheck).then(
        () => {
          if (this.client === client) this.scheduleHealthCheck(client);
        },
        () => this.lost(client),
      );
    }, HEALTH_CHECK_MS);
    this.timer.unref();
  }

  /** The connection failed: drop it and listen again after the backoff. */
  private lost(client: pg.Client | undefined): void {
    if (client === undefined || this.client !== client || this.state === 'closed') return;
    this.client = undefined;
    clearTimeout(this.timer);
    void this.dispose(client);
    this.retry();
  }

  private retry(): void {
    if (this.state === 'closed') return;
    this.state = 'retrying';
    this.timer = setTimeout(() => void this.listen(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  /** Ends a client without waiting on a dead connection (pg destroys the socket when a query hangs). */
  private async dispose(client: pg.Client): Promise<void> {
    client.removeAllListeners('notification');
    // Errors after this point are expected: keep one listener so that none is unhandled.
    client.removeAllListeners('error');
    client.on('error', () => undefined);
    await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
}
