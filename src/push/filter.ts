/**
 * Resume and dedup for push (SPEC §10): task ids are deterministic, so a
 * task already done or already waiting is known by its id. `--skip-done`
 * skips the ids with a succeeded attempt in the queue's history,
 * `--skip-queued` the ids in the queue now (leased ones included); a task
 * pushed earlier in the same push counts as queued, so a repeated line is
 * skipped too. The sets are read once, when the filter is made.
 */
import type { JobQueue } from '../queue/job-queue.js';

export interface PushFilterOptions {
  /** Skip tasks whose id already succeeded (default false). */
  skipDone?: boolean;
  /** Skip tasks whose id is already in the queue (default false). */
  skipQueued?: boolean;
}

export class PushFilter {
  /** How many tasks were skipped, by reason. */
  readonly skipped = { done: 0, queued: 0 };

  private constructor(
    private readonly done: ReadonlySet<string> | undefined,
    private readonly queued: Set<string> | undefined,
  ) {}

  /** A filter for the options, or undefined when neither asks for one. */
  static async create(queue: JobQueue, options: PushFilterOptions): Promise<PushFilter | undefined> {
    if (!options.skipDone && !options.skipQueued) return undefined;
    const [done, queued] = await Promise.all([
      options.skipDone ? queue.fleet.succeededIds() : undefined,
      options.skipQueued ? queue.queuedTaskIds() : undefined,
    ]);
    return new PushFilter(done, queued);
  }

  /** Whether to push the task with this id (counting it as queued from now on). */
  keep(taskId: string): boolean {
    if (this.done?.has(taskId)) {
      this.skipped.done += 1;
      return false;
    }
    if (this.queued?.has(taskId)) {
      this.skipped.queued += 1;
      return false;
    }
    this.queued?.add(taskId);
    return true;
  }

  /** The skipped counts in words, for a push's summary: `skipped 600 done, 10 queued`. */
  describe(): string {
    const parts = [];
    if (this.done) parts.push(`${this.skipped.done} done`);
    if (this.queued) parts.push(`${this.skipped.queued} queued`);
    return `skipped ${parts.join(', ')}`;
  }
}
