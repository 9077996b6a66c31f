/**
 * Heartbeats for one lease: extends it every visibility/2 from the moment it
 * is leased (it may wait in the lease buffer before its task starts) until it
 * is settled. Extensions are chained so that a settle never races one:
 * `stop()` waits for the extension in flight and hands back the newest lease
 * (Azure issues a new pop receipt on every extension). An extension that finds
 * the lease gone marks it lost, calls the `whenLost` handler (if one is set by
 * then) and stops beating; other failures are logged and retried at the next
 * beat, since the lease may still be valid.
 */
import type { Lease } from '../backends/backend.js';
import { errorMessage, hasCode } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** No extension in flight: shared, since most leases are settled before their first beat. */
const noneInFlight: Promise<void> = Promise.resolve();

export class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = noneInFlight;
  private lost = false;
  private onLost: (() => void) | undefined;

  /** @param extend extends a lease for `visibilityMs` and returns it with its newest token (a queue's `extend`). */
  constructor(
    private lease: Lease,
    private readonly extend: (lease: Lease, visibilityMs: number) => Promise<Lease>,
    private readonly visibilityMs: number,
    private readonly logger: Logger,
  ) {}

  start(): this {
    this.timer = setInterval(() => {
      const extension = this.inFlight.then(() => this.beat());
      this.inFlight = extension;
      // The last extension done: none is in flight (stopNow can answer at once).
      const done = (): void => {
        if (this.inFlight === extension) this.inFlight = noneInFlight;
      };
      void extension.then(done, done);
    }, Math.max(500, Math.floor(this.visibilityMs / 2)));
    this.timer.unref();
    return this;
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** Calls `handler` when the lease is found lost from now on (check `isLost` for before). */
  whenLost(handler: () => void): void {
    this.onLost = handler;
  }

  /** Stops beating; resolves with the newest lease once no extension is in flight. */
  stop(): Promise<Lease> {
    return this.stopNow() !== undefined ? Promise.resolve(this.lease) : this.inFlight.then(() => this.lease);
  }

  /** Stops beating; the newest lease at once when no extension is in flight, else undefined (`stop()` waits for it). */
  stopNow(): Lease | undefined {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.inFlight === noneInFlight ? this.lease : undefined;
  }

  private async beat(): Promise<void> {
    if (this.lost || this.timer === undefined) return;
    try {
      this.lease = await this.extend(this.lease, this.visibilityMs);
    } catch (err) {
      if (hasCode(err, 'LEASE_LOST')) {
        this.lost = true;
        if (this.timer) clearInterval(this.timer);
        this.onLost?.();
      } else {
        this.logger.warn({ event: 'heartbeat_failed', message_id: this.lease.messageId }, `heartbeat failed, will retry: ${errorMessage(err)}`);
      }
    }
  }
}
