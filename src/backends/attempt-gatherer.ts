/**
 * Attempts of a history gathered for a moment and then written together
 * (the local and PostgreSQL histories): one write, in one transaction with
 * whatever else that turn writes, serves every attempt of the window. Every
 * `record` of a window shares one promise, which the write settles.
 */
import type { AttemptRecord } from './fleet.js';

export class AttemptGatherer {
  private gathered: AttemptRecord[] = [];
  private batch: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param gatherMs how long the first attempt of a window waits for others.
   * @param write writes a window's attempts; its failure rejects their `record` calls.
   */
  constructor(
    private readonly gatherMs: number,
    private readonly write: (attempts: AttemptRecord[]) => Promise<void>,
  ) {}

  /** Gathers attempts; resolves once they are written. */
  record(attempts: readonly AttemptRecord[]): Promise<void> {
    this.gathered.push(...attempts);
    if (!this.batch) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      this.batch = { promise, resolve, reject };
      this.timer = setTimeout(() => void this.flush(), this.gatherMs);
      this.timer.unref();
    }
    return this.batch.promise;
  }

  /** Writes what is gathered now; never rejects (the callers of `record` get the failure). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    const attempts = this.gathered;
    const batch = this.batch;
    this.gathered = [];
    this.batch = undefined;
    if (!batch) return Promise.resolve();
    return this.write(attempts).then(batch.resolve, batch.reject);
  }
}
