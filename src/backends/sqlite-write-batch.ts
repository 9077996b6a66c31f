/**
 * Commits the SQLite writes of one event-loop turn together, in one IMMEDIATE
 * transaction. A commit costs far more than the statements in it (it appends
 * the WAL frames of every page touched: 30–140 µs), and a busy worker settles
 * several tasks and leases many messages in each turn, so sharing the commit
 * divides that cost among them. (Holding writes longer, to share a commit
 * among more of them, measured slower: the threads that wait for the main
 * thread idle meanwhile.)
 *
 * A write is a synchronous function of statements; `run` queues it and
 * resolves with its value once its transaction has committed. Each write runs
 * in a savepoint of its own, so one that throws undoes only itself and
 * rejects only its own call; a write of a single statement (`runStatement`)
 * needs none, since SQLite undoes a failed statement by itself. When the
 * transaction as a whole fails (the lock stayed busy past the busy timeout,
 * the commit failed, or an error made SQLite roll everything back), every
 * write of the batch rejects with that error: none of them happened.
 *
 * A full disk is the exception, because the write-ahead log itself can keep
 * it full (sqlite-wal-space.ts): when a batch fails with SQLITE_FULL, the log
 * gives its space back and the batch is tried once more; only if it fails
 * again do its writes reject.
 */
import type Database from 'better-sqlite3';
import type { WalSpace } from './sqlite-wal-space.js';

interface PendingWrite {
  readonly write: () => unknown;
  /** One statement: no savepoint needed. */
  readonly statement: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
  /** Set inside the transaction: whether the write went through, and its value or error. */
  ok: boolean;
  outcome: unknown;
}

export class SqliteWriteBatch {
  private pending: PendingWrite[] = [];
  private readonly commitAll: Database.Transaction<(batch: PendingWrite[]) => void>;
  private readonly inSavepoint: Database.Transaction<(write: () => unknown) => unknown>;

  constructor(
    db: Database.Database,
    private readonly space: WalSpace,
  ) {
    // Made once: better-sqlite3 builds a wrapper per `transaction()` call. Called
    // inside a transaction, a transaction function runs as a savepoint.
    this.inSavepoint = db.transaction((write: () => unknown) => write());
    this.commitAll = db.transaction((batch: PendingWrite[]) => {
      for (const pending of batch) {
        try {
          pending.outcome = pending.statement ? pending.write() : this.inSavepoint(pending.write);
          pending.ok = true;
        } catch (err) {
          // SQLite rolled the whole transaction back (disk full, I/O error): fail the batch.
          if (!db.inTransaction) throw err;
          pending.outcome = err;
        }
      }
    });
  }

  /** Queues `write` for this turn's commit; resolves with its value once committed. */
  run<T>(write: () => T): Promise<T> {
    return this.queue(write, false);
  }

  /**
   * As `run`, for a write of one statement (which may throw after it, having
   * changed nothing, as a settle with a stale lease token does).
   */
  runStatement<T>(write: () => T): Promise<T> {
    return this.queue(write, true);
  }

  private queue<T>(write: () => T, statement: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ write, statement, resolve: resolve as (value: unknown) => void, reject, ok: false, outcome: undefined });
    });
  }

  /** Commits the queued writes now (the turn's flush then finds nothing to do). */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let failure = this.commit(batch);
    if (failure !== undefined && isDiskFull(failure) && this.space.reclaim()) failure = this.commit(batch);
    if (failure !== undefined) {
      for (const pending of batch) pending.reject(failure);
      return;
    }
    this.space.committed();
    for (const pending of batch) {
      if (pending.ok) pending.resolve(pending.outcome);
      else pending.reject(pending.outcome);
    }
  }

  /** Runs the batch in one transaction; the error that rolled it all back, or undefined once committed. */
  private commit(batch: PendingWrite[]): unknown {
    for (const pending of batch) {
      pending.ok = false;
      pending.outcome = undefined;
    }
    try {
      this.commitAll.immediate(batch);
      return undefined;
    } catch (err) {
      return err;
    }
  }
}

/** SQLite's code for a write that found no room (`database or disk is full`). */
function isDiskFull(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';
}
