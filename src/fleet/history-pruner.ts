/**
 * Keeps a queue's history within its retention (SPEC §10) at a cost the
 * worker does not notice: rarely (every `pruneIntervalMs`, the first time at
 * a random moment of the worker's first minute, so that short-lived workers
 * prune too and a fleet's workers do not all prune at once) and in small batches with a pause between them, each batch one short
 * write. It also deletes the rows of workers gone longer than their retention.
 * Several workers pruning at once only delete the same rows.
 */
import type { RetentionPolicy } from '../backends/fleet.js';
import type { FleetRecords } from '../queue/fleet-records.js';
import { sleep } from '../timers/sleep.js';

const pruneIntervalMs = 10 * 60_000;
const firstPruneMs = { min: 5_000, max: 60_000 };
const batchSize = 500;
const pauseMs = 100;

export class HistoryPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly stopped = new AbortController();

  constructor(
    private readonly fleet: FleetRecords,
    private readonly policy: RetentionPolicy,
    private readonly workerRowRetentionMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    const schedule = (delay: number): void => {
      this.timer = setTimeout(() => {
        this.running = this.prune().finally(() => {
          this.running = undefined;
          if (!this.stopped.signal.aborted) schedule(pruneIntervalMs);
        });
      }, delay);
      this.timer.unref();
    };
    schedule(firstPruneMs.min + Math.random() * (firstPruneMs.max - firstPruneMs.min));
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pruning round: batches until a batch finds less than its size, or the worker stops. */
  private async prune(): Promise<void> {
    try {
      await this.fleet.pruneWorkers(Date.now() - this.workerRowRetentionMs);
      while (!this.stopped.signal.aborted) {
        if ((await this.fleet.pruneHistory(this.policy, batchSize)) < batchSize) return;
        await sleep(pauseMs, this.stopped.signal);
      }
    } catch (err) {
      this.onError(err);
    }
  }
}
