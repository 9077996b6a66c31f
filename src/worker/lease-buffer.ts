/**
 * Where the slots get their leases. The slots that ask for a task in the
 * same turn of the event loop share one lease call (up to the backend's batch
 * limit: at the start and at the end, every slot asks at once), and
 * when tasks are short the call also leases some ahead of them, kept here
 * until a slot asks: most slots then find their next task waiting, and one
 * storage write serves many tasks.
 *
 * How many to lease ahead follows the rate at which the slots take leases:
 * as many as they take in the horizon, at most `maxAhead`. The horizon is
 * `aheadHorizonMs`, or four lease round trips when that is longer (a refill
 * goes out when half of what is ahead is left, and must come back before
 * the rest is taken, with a round trip to spare: round trips vary): on a
 * link with a 20 ms round trip, the slots still find their next task
 * waiting. A lease waits here about the horizon at most: tasks that take longer than that get none ahead, so that a worker
 * holds back no task that other workers could run. While the worker is not
 * running (a stop, a brace), a lease call is only for the slots that ask.
 *
 * Up to `maxCallsInFlight` lease calls go out at once, each up to the
 * backend's batch limit, when the slots need more than one call brings (32
 * on Azure). A call that found fewer messages than it asked for stops the
 * leasing ahead until a slot finds the buffer empty; the slots it left
 * waiting lease again at once while the calls find messages, and are told
 * that none is visible (the loop's idle wait) only by a call that found none.
 *
 * A buffered lease is held like a running one: its heartbeat starts when it
 * is leased, and the execution of its task takes the heartbeat over.
 * `releaseBuffered()` (a stop) puts every buffered lease back on the queue at
 * once, unchanged. Leases that come back from a call while the worker is not
 * running go to the slots that asked (which release them untouched) and the
 * rest straight back to the queue.
 */
import type { Lease } from '../backends/backend.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { JobQueue, LeasedMessage } from '../queue/job-queue.js';
import { LeaseKeeper } from './lease-keeper.js';

/** A leased message and its heartbeat (none with heartbeats off). */
export interface HeldLease {
  readonly message: LeasedMessage;
  readonly keeper: LeaseKeeper | undefined;
}

export interface LeaseBufferOptions {
  readonly visibilityMs: number;
  readonly heartbeat: boolean;
  /** Hand at most this many leases to the slots in all (leases given back untaken do not count). */
  readonly maxTasks: number;
  /** Whether leases may be kept for later: false while the worker is stopping or braced. */
  readonly isRunning: () => boolean;
  readonly logger: Logger;
}

interface Waiter {
  resolve(held: HeldLease | undefined): void;
  reject(err: unknown): void;
}

/**
 * The most leases kept ahead of the slots. The horizon bounds what is kept
 * for all but the shortest tasks; for those, a refill (half of what is
 * ahead) of 128 costs SQLite less per message than one of 32: 256 instead of
 * 64 made no-op function tasks on local/ 5–12% faster.
 */
const maxAhead = 256;
/** Lease ahead what the slots take in this long, at least (four lease round trips when that is longer). */
const aheadHorizonMs = 50;
/** The most lease calls in flight at once. */
const maxCallsInFlight = 4;
/** The weight of the newest lease call in the running mean of their round trips. */
const newestWeight = 1 / 8;

export class LeaseBuffer {
  private readonly buffered: HeldLease[] = [];
  private readonly waiters: Waiter[] = [];
  /** Releases under way (they never reject). */
  private readonly releases = new Set<Promise<void>>();
  /** The lease calls in flight. */
  private readonly calls = new Set<Promise<void>>();
  /** How many leases the calls in flight asked for in all: the first that many waiters are theirs. */
  private requested = 0;
  /** The worker is done: nothing is kept any more. */
  private closed = false;
  /** A refill waits for the end of this turn (`refillSoon`). */
  private refillQueued = false;
  /** The last lease call found fewer messages than it asked for. */
  private exhausted = false;
  /** Leases handed to slots. With those buffered, at most maxTasks: a lease given back counts no more. */
  private taken = 0;
  /** The lease call's round trip, a running mean (ms). */
  private leaseRoundTripMs = 0;
  /** The time between two leases taken by slots (ms), over the last window of at least the horizon; NaN at first. */
  private msPerTake = Number.NaN;
  /** When the current window began (performance.now()), and how many leases slots had taken then. */
  private windowStart = Number.NaN;
  private takenAtWindowStart = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly options: LeaseBufferOptions,
  ) {}

  /** Leases held here now, ahead of the slots. */
  get bufferedCount(): number {
    return this.buffered.length;
  }

  /** Leases the slots have taken or are waiting for (the worker's count toward maxTasks). */
  get claimed(): number {
    return this.taken + this.waiters.length;
  }

  /** A buffered lease for one slot at once, when no slot waits before it; else undefined (then `next`). */
  take(): HeldLease | undefined {
    const held = this.waiters.length === 0 ? this.buffered.shift() : undefined;
    if (held) {
      this.taken += 1;
      this.refill();
    }
    return held;
  }

  /** A lease for one slot, or undefined when no message was visible (or maxTasks are taken). */
  next(): Promise<HeldLease | undefined> {
    const held = this.take();
    if (held) return Promise.resolve(held);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.refillSoon();
    });
  }

  /** Puts every buffered lease back on the queue at once (a stop). */
  releaseBuffered(): void {
    const held = this.buffered.splice(0);
    if (held.length === 0) return;
    this.options.logger.info(
      { event: 'tasks_released', count: held.length },
      `released ${held.length} leased task(s) that had not started`,
    );
    for (const lease of held) this.release(lease);
  }

  /** Ends leasing: waits for the lease call in flight, releases what is buffered, and waits for every release. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.calls.size > 0) await Promise.all(this.calls);
    this.releaseBuffered();
    while (this.releases.size > 0) await Promise.all(this.releases);
  }

  /** Whether leases may be kept for later. */
  private get keeping(): boolean {
    return !this.closed && this.options.isRunning();
  }

  /** A refill once every slot that asks in this turn has asked, so that they share its call. */
  private refillSoon(): void {
    if (this.refillQueued) return;
    this.refillQueued = true;
    queueMicrotask(() => {
      this.refillQueued = false;
      this.refill();
    });
  }

  /** Sends lease calls while the slots that wait and the leases ahead need more than is buffered and asked for. */
  private refill(): void {
    this.measureRate();
    while (this.calls.size < maxCallsInFlight) {
      const ahead = this.keeping && !this.exhausted ? this.aheadForRate() : 0;
      const coming = this.buffered.length + this.requested - this.waiters.length;
      // Slots wait with no call for them, or what is ahead is half gone.
      const due = coming < 0 || (ahead > 0 && coming <= ahead / 2);
      const count = Math.min(
        ahead - coming,
        this.queue.capabilities.maxLeaseBatch,
        this.options.maxTasks - this.taken - this.buffered.length - this.requested,
      );
      if (!due || count <= 0) break;
      this.send(count);
    }
    // maxTasks are claimed: the slots no call is for get nothing.
    if (this.requested < this.waiters.length && this.options.maxTasks - this.taken - this.requested <= 0) {
      for (const waiter of this.uncoveredWaiters()) waiter.resolve(undefined);
    }
  }

  private get horizonMs(): number {
    return Math.max(aheadHorizonMs, 4 * this.leaseRoundTripMs);
  }

  /** How many to lease ahead at the rate the slots take leases, over the horizon. */
  private aheadForRate(): number {
    // NaN (no window yet) and Infinity (nothing taken: the queue was empty) give none ahead.
    return this.msPerTake >= 0 ? Math.min(maxAhead, Math.floor(this.horizonMs / this.msPerTake)) : 0;
  }

  /**
   * The rate of takes, over windows of at least the horizon: slots that wait
   * on a call take its leases all at once, and only a window that long tells
   * a burst of long tasks from a stream of short ones.
   */
  private measureRate(): void {
    const now = performance.now();
    const elapsed = now - this.windowStart;
    if (elapsed < this.horizonMs) return;
    if (elapsed >= 0) this.msPerTake = elapsed / (this.taken - this.takenAtWindowStart);
    this.windowStart = now;
    this.takenAtWindowStart = this.taken;
  }

  /** The waiters no call in flight is for (the last ones to come), taken out. */
  private uncoveredWaiters(): Waiter[] {
    return this.waiters.splice(this.requested);
  }

  /** Sends one lease call; once it is done (and no longer counts as in flight), more may go out. */
  private send(count: number): void {
    this.requested += count;
    const call = this.leaseMore(count);
    this.calls.add(call);
    void call.then(() => {
      this.calls.delete(call);
      this.refill();
    });
  }

  /** One lease call; never rejects (a failure goes to the slots that asked). */
  private async leaseMore(count: number): Promise<void> {
    const sentAt = performance.now();
    let held: HeldLease[];
    try {
      const messages = await this.queue.lease(count, this.options.visibilityMs);
      held = messages.map((message) => ({ message, keeper: this.heartbeat(message) }));
      this.exhausted = held.length < count;
      this.leaseRoundTripMs += (performance.now() - sentAt - this.leaseRoundTripMs) * newestWeight;
    } catch (err) {
      this.exhausted = true;
      this.requested -= count;
      for (const waiter of this.uncoveredWaiters()) waiter.reject(err);
      return;
    }
    this.requested -= count;
    for (const lease of held) {
      const waiter = this.waiters.shift();
      if (waiter) {
        this.taken += 1;
        waiter.resolve(lease);
      } else if (this.keeping) {
        this.buffered.push(lease);
      } else {
        this.release(lease);
      }
    }
    // None visible: the slots no other call is for wait (the loop's idle wait). After a call that found some, they lease again.
    if (held.length === 0) {
      for (const waiter of this.uncoveredWaiters()) waiter.resolve(undefined);
    }
  }

  private heartbeat(message: LeasedMessage): LeaseKeeper | undefined {
    if (!this.options.heartbeat) return undefined;
    const extend = (lease: Lease, visibilityMs: number): Promise<Lease> => this.queue.extend(lease, visibilityMs);
    return new LeaseKeeper(message.lease, extend, this.options.visibilityMs, this.options.logger).start();
  }

  private release(held: HeldLease): void {
    const release = this.releaseNow(held);
    this.releases.add(release);
    void release.then(() => this.releases.delete(release));
  }

  /** Stops the heartbeat and releases the lease unchanged; a failure is logged (the lease then expires). */
  private async releaseNow(held: HeldLease): Promise<void> {
    const lease = (await held.keeper?.stop()) ?? held.message.lease;
    if (held.keeper?.isLost) return;
    try {
      await this.queue.release(lease);
    } catch (err) {
      this.options.logger.error(
        { event: 'settle_failed', task_id: held.message.task?.id ?? null },
        `could not release message ${lease.messageId}: ${errorMessage(err)}; it will be visible again when its lease expires`,
      );
    }
  }
}
