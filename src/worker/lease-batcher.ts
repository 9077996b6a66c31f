/**
 * Shares lease calls between slots: the slots that are waiting for a task
 * when a lease call goes out are served by that one call (up to the backend's
 * batch limit). The prefetch is thereby bounded by the free slots: every
 * message leased is handed to a slot at once, and a stop that comes in
 * between is handled by the slot (it releases the task untouched).
 */
import type { JobQueue, LeasedMessage } from '../queue.js';

interface Waiter {
  resolve(message: LeasedMessage | undefined): void;
  reject(err: unknown): void;
}

export class LeaseBatcher {
  private readonly waiters: Waiter[] = [];
  private leasing = false;

  constructor(
    private readonly queue: JobQueue,
    private readonly visibilityMs: number,
  ) {}

  /** A leased message for one slot, or undefined when none was visible. */
  next(): Promise<LeasedMessage | undefined> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.leasing || this.waiters.length === 0) return;
    this.leasing = true;
    const served = this.waiters.splice(0, Math.min(this.waiters.length, this.queue.backend.capabilities.maxLeaseBatch));
    try {
      const messages = await this.queue.lease(served.length, this.visibilityMs);
      served.forEach((waiter, index) => waiter.resolve(messages[index]));
    } catch (err) {
      for (const waiter of served) waiter.reject(err);
    } finally {
      this.leasing = false;
      void this.pump();
    }
  }
}
