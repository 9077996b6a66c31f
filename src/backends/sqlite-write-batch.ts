/**
 * Commits the SQLite writes of one event-loop turn together, in one IMMEDIATE
 * transaction. A commit costs far more than the statements in it (it appends
 * the WAL frames of every page touched and takes and drops the file locks:
 * about 15 system calls, 50–100 µs of the main thread), and a busy worker
 * settles several tasks and leases many messages in each turn, so sharing
 * the commit divides that cost among them.
 *
 * Settlements (`settle`) wait longer: nothing waits on them but their own
 * records (the slot took its next task when the settlement was chosen), so
 * a batch of settlements alone is committed `settleHoldMs` after its first
 * write, or at the end of the turn in which it reaches `settleHoldWrites`.
 * Any other write (a lease, a push) commits the batch at the end of its
 * turn, settlements with it. With no-op function tasks this shares each
 * commit among about 30 settlements instead of 4, and the worker goes about
 * 10% faster; a crash in those 2 ms only means the task runs again, as after
 * any crash before its settlement.
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

/** How long a batch of settlements alone waits for more before it commits. */
const settleHoldMs = 2;
/** A batch of this many writes commits at the end of the turn, settlements or not. */
const settleHoldWrites = 64;

export class SqliteWriteBatch {
  private pending: PendingWrite[] = [];
  /** The flush at the end of this turn, or the held one of a batch of settlements, once scheduled. */
  private turnFlush: NodeJS.Immediate | undefined;
  private heldFlush: NodeJS.Timeout | undefined;
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

  /**
   * As `runStatement`, for a settlement: it may wait for more of them to share
   * its commit (see the top of this file).
   */
  settle<T>(write: () => T): Promise<T> {
    return this.queue(write, true, true);
  }

  private queue<T>(write: () => T, statement: boolean, mayWait = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ write, statement, resolve: resolve as (value: unknown) => void, reject, ok: false, outcome: undefined });
      if (!mayWait || this.pending.length >= settleHoldWrites) this.turnFlush ??= setImmediate(() => this.flush());
      else if (!this.turnFlush) this.heldFlush ??= setTimeout(() => this.flush(), settleHoldMs);
    });
  }

  /** Commits the queued writes now (a flush scheduled for them then finds nothing to do). */
  flush(): void {
    if (this.turnFlush) clearImmediate(this.turnFlush);
    if (this.heldFlush) clearTimeout(this.heldFlush);
    this.turnFlush = undefined;
    this.heldFlush = undefined;
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
