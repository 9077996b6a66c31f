/**
 * Where the slots get their leases. The slots that wait for a task when a
 * lease call goes out share that call (up to the backend's batch limit), and
 * when tasks are short the call also leases some ahead of them, kept here
 * until a slot asks: most slots then find their next task waiting, and one
 * storage write serves many tasks.
 *
 * How many to lease ahead follows the rate at which the slots take leases:
 * as many as they take in `aheadHorizonMs`, at most `maxAhead`, so that a
 * lease waits here about that long at most. Tasks that take longer than that
 * get none ahead: a worker holds back no task that other workers could run
 * for longer than that. While the worker is not running (a stop, a brace), a
 * lease call is only for the slots that ask.
 * A refill goes out when the buffer is half empty, before a slot has to wait
 * for it; after a lease call that found fewer messages than it asked for,
 * only a slot that finds the buffer empty leases again.
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

/** The most leases kept ahead of the slots. */
const maxAhead = 64;
/** Lease ahead what the slots take in this long. */
const aheadHorizonMs = 10;

export class LeaseBuffer {
  private readonly buffered: HeldLease[] = [];
  private readonly waiters: Waiter[] = [];
  /** Releases under way (they never reject). */
  private readonly releases = new Set<Promise<void>>();
  /** The lease call in flight, if any. */
  private call: Promise<void> | undefined;
  /** The worker is done: nothing is kept any more. */
  private closed = false;
  /** The last lease call found fewer messages than it asked for. */
  private exhausted = false;
  private ahead = 0;
  /** Leases handed to slots. With those buffered, at most maxTasks: a lease given back counts no more. */
  private taken = 0;
  /** When the last lease call went out (performance.now()), and how many leases slots had taken then. */
  private lastCallAt = Number.NaN;
  private takenAtCall = 0;

  constructor(
    private readonly queue: JobQueue,
    private readonly options: LeaseBufferOptions,
  ) {}

  /** Leases the slots have taken or are waiting for (the worker's count toward maxTasks). */
  get claimed(): number {
    return this.taken + this.waiters.length;
  }

  /** A lease for one slot, or undefined when no message was visible (or maxTasks are taken). */
  next(): Promise<HeldLease | undefined> {
    const held = this.waiters.length === 0 ? this.buffered.shift() : undefined;
    if (held) {
      this.taken += 1;
      this.refill();
      return Promise.resolve(held);
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.refill();
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
    while (this.call) await this.call;
    this.releaseBuffered();
    while (this.releases.size > 0) await Promise.all(this.releases);
  }

  /** Whether leases may be kept for later. */
  private get keeping(): boolean {
    return !this.closed && this.options.isRunning();
  }

  private refill(): void {
    if (this.call) return;
    const low = this.ahead > 0 && this.buffered.length <= this.ahead / 2 && !this.exhausted && this.keeping;
    if (this.waiters.length === 0 && !low) return;
    this.ahead = this.keeping ? this.aheadForRate() : 0;
    const count = Math.min(
      this.waiters.length + this.ahead - this.buffered.length,
      this.queue.capabilities.maxLeaseBatch,
      this.options.maxTasks - this.taken - this.buffered.length,
    );
    if (count > 0) this.call = this.leaseMore(count);
    else for (const waiter of this.waiters.splice(0)) waiter.resolve(undefined);
  }

  /** How many to lease ahead at the rate the slots took leases since the last call. */
  private aheadForRate(): number {
    const msPerLease = (performance.now() - this.lastCallAt) / (this.taken - this.takenAtCall);
    // NaN (the first call) and Infinity (nothing taken: the queue was empty) give none ahead.
    return msPerLease >= 0 ? Math.min(maxAhead, Math.floor(aheadHorizonMs / msPerLease)) : 0;
  }

  /** One lease call; never rejects (a failure goes to the slots that asked). */
  private async leaseMore(count: number): Promise<void> {
    this.lastCallAt = performance.now();
    this.takenAtCall = this.taken;
    let held: HeldLease[];
    try {
      const messages = await this.queue.lease(count, this.options.visibilityMs);
      held = messages.map((message) => ({ message, keeper: this.heartbeat(message) }));
      this.exhausted = held.length < count;
    } catch (err) {
      this.exhausted = true;
      for (const waiter of this.waiters.splice(0)) waiter.reject(err);
      return;
    } finally {
      this.call = undefined;
    }
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
    if (this.exhausted) {
      for (const waiter of this.waiters.splice(0)) waiter.resolve(undefined);
    }
    this.refill();
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
