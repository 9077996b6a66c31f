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
 */
import type Database from 'better-sqlite3';

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

  constructor(db: Database.Database) {
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
    try {
      this.commitAll.immediate(batch);
    } catch (err) {
      for (const pending of batch) pending.reject(err);
      return;
    }
    for (const pending of batch) {
      if (pending.ok) pending.resolve(pending.outcome);
      else pending.reject(pending.outcome);
    }
  }
}
