/**
 * Keeps SQLite's write-ahead log from filling a small disk for good.
 *
 * SQLite copies the log into the database (a checkpoint) once it holds
 * `wal_autocheckpoint` pages, 1,000 by default (4 MB). With less free space
 * than that, the log grows until no write fits and never reaches its
 * checkpoint; and once the disk is full, a checkpoint may itself fail for
 * want of the page or two by which the database must grow. So:
 *
 * - the checkpoint threshold follows the free space: a quarter of it, in
 *   pages (at least MIN_PAGES, at most SQLite's default), looked at again at
 *   most once a second as writes commit; the log file is cut back to that
 *   size whenever it starts over (`journal_size_limit`);
 * - after a write that found the disk full, `reclaim` copies the log into
 *   the database and truncates it to nothing, which gives its space back as
 *   soon as anything else frees a little.
 */
import type Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';

/** SQLite's default threshold, and the most jobq sets. */
const DEFAULT_PAGES = 1000;
/** The least: below this, checkpoints would cost more than the writes. */
const MIN_PAGES = 16;
/** How often the free space is looked at. */
const CHECK_INTERVAL_MS = 1000;

export class WalSpace {
  private readonly pageSize: number;
  private pages = 0;
  private nextCheck = 0;

  constructor(
    private readonly db: Database.Database,
    /** The folder of the database: its file system is the one that fills. */
    private readonly dir: string,
  ) {
    this.pageSize = Number(db.pragma('page_size', { simple: true }));
    this.adjust();
  }

  /** After a commit: sizes the log to the free space, at most once a CHECK_INTERVAL_MS. */
  committed(): void {
    if (Date.now() >= this.nextCheck) this.adjust();
  }

  /**
   * After a write failed on a full disk: copies the log into the database and
   * truncates it. Whether that was done, so that the write may be tried again
   * (not when another process still reads from the log, or the database could
   * not grow).
   */
  reclaim(): boolean {
    let done = false;
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      done = result?.busy === 0;
    } catch {
      // still no room: the write fails as it did
    }
    this.adjust();
    return done;
  }

  private adjust(): void {
    this.nextCheck = Date.now() + CHECK_INTERVAL_MS;
    let free: number;
    try {
      const stats = statfsSync(this.dir);
      free = stats.bavail * stats.bsize;
    } catch {
      return;
    }
    const pages = Math.max(MIN_PAGES, Math.min(DEFAULT_PAGES, Math.floor(free / 4 / this.pageSize)));
    if (pages === this.pages) return;
    this.pages = pages;
    this.db.pragma(`wal_autocheckpoint = ${pages}`);
    this.db.pragma(`journal_size_limit = ${pages * this.pageSize}`);
  }
}
