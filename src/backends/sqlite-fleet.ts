/**
 * The local backend's fleet tables (src/backends/fleet.ts), in the same
 * SQLite file as the queues: `attempts`, one row per finished attempt, and
 * `workers`, one row per worker of a queue. Attempts are gathered for up to
 * `gatherMs` and then written through the backend's write batch, in the same
 * transaction as the settles of that event-loop turn: the hot path pays an
 * indexed insert and no commit of its own. (Writing each attempt in its own
 * settle's turn measured 20% slower for no-op function tasks: every commit
 * then appended the attempts table's and its index's last pages to the WAL.)
 * A process killed within `gatherMs` of an attempt loses its record, never a
 * task; `close` writes what is gathered. The only secondary index is (queue, ended_at), which the time
 * windows of `status`, `--since` and pruning by age use; the rarer lookups
 * (a task, a worker, the succeeded ids that `push --skip-done` reads once)
 * scan the queue's rows, which retention keeps bounded.
 */
import type Database from 'better-sqlite3';
import {
  attemptFromRow,
  attemptOutcomes,
  noOutcomes,
  readWorkerRow,
  type AttemptOutcome,
  type AttemptRow,
  type AttemptRecord,
  type HistoryFilter,
  type HistoryStore,
  type OutcomeCounts,
  type RetentionPolicy,
  type WorkerRow,
  type WorkerRowStore,
} from './fleet.js';
import { AttemptGatherer } from './attempt-gatherer.js';

export const fleetSchema = `
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  task_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  command TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  outcome TEXT NOT NULL,
  stop TEXT,
  exit_code INTEGER,
  signal TEXT,
  error TEXT,
  output TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_end ON attempts (queue, ended_at);
CREATE TABLE IF NOT EXISTS workers (
  queue TEXT NOT NULL,
  worker_id TEXT NOT NULL,
  last_seen INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (queue, worker_id)
);
`;

const columns =
  'task_id, kind, command, worker_id, host, pid, started_at, ended_at, duration_ms, outcome, stop, exit_code, signal, error, output';

/** An attempt's insert, exported for the bench's floor (`bench/baselines/bare-worker.ts`). */
export const attemptInsertSql = `INSERT INTO attempts (queue, ${columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** The statements of the fleet tables, prepared once per database. */
function fleetStatements(db: Database.Database) {
  return {
    insertAttempt: db.prepare(attemptInsertSql),
    countSince: db.prepare<[string, number], { outcome: string; n: number }>(
      'SELECT outcome, count(*) AS n FROM attempts WHERE queue = ? AND ended_at >= ? GROUP BY outcome',
    ),
    succeeded: db.prepare<[string], { task_id: string }>("SELECT task_id FROM attempts WHERE queue = ? AND outcome = 'succeeded'"),
    /** The oldest id of the queue, and the newest: their span bounds how many attempts the queue has. */
    idSpan: db.prepare<[string], { low: number | null; high: number | null }>('SELECT min(id) AS low, max(id) AS high FROM attempts WHERE queue = ?'),
    /** The id of the newest attempt beyond the newest `maxAttempts` (the OFFSET walks the index: done only when the span says it may exist). */
    beyondCount: db.prepare<[string, number], { id: number }>('SELECT id FROM attempts WHERE queue = ? ORDER BY id DESC LIMIT 1 OFFSET ?'),
    deleteUpTo: db.prepare<[string, number, number]>(
      'DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE queue = ? AND id <= ? ORDER BY id LIMIT ?)',
    ),
    deleteOlder: db.prepare<[string, number, number]>(
      'DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE queue = ? AND ended_at < ? ORDER BY ended_at LIMIT ?)',
    ),
    putWorker: db.prepare('INSERT OR REPLACE INTO workers (queue, worker_id, last_seen, body) VALUES (?, ?, ?, ?)'),
    listWorkers: db.prepare<[string], { body: string }>('SELECT body FROM workers WHERE queue = ? ORDER BY worker_id'),
    pruneWorkers: db.prepare<[string, number]>('DELETE FROM workers WHERE queue = ? AND last_seen < ?'),
  };
}

type FleetStatements = ReturnType<typeof fleetStatements>;

/** Runs SQLite calls with the backend's error handling (BackendError naming the queue). */
export interface SqliteAccess {
  read<T>(fn: () => T): T;
  /**
   * A write in this turn's transaction: `single` for one statement (or
   * statements whose partial effect is harmless, as deletes of pruning),
   * else in a savepoint of its own.
   */
  write<T>(fn: () => T, single?: boolean): Promise<T>;
}

/** The fleet tables of one database: a queue's history and worker rows. */
export class SqliteFleet {
  private readonly sql: FleetStatements;
  private readonly histories = new Set<SqliteHistory>();

  constructor(
    private readonly db: Database.Database,
    private readonly access: (what: string) => SqliteAccess,
  ) {
    this.sql = fleetStatements(db);
  }

  history(queue: string): HistoryStore {
    const history = new SqliteHistory(queue, this.db, this.sql, this.access(`history of ${queue}`));
    this.histories.add(history);
    return history;
  }

  /** Queues every gathered attempt into the current write batch (the backend then commits it). */
  writeGathered(): Promise<void[]> {
    return Promise.all([...this.histories].map((history) => history.write()));
  }

  workerRows(queue: string): WorkerRowStore {
    return new SqliteWorkerRows(queue, this.sql, this.access(`worker rows of ${queue}`));
  }
}

/** How long attempts are gathered before they are written together. */
const gatherMs = 100;

class SqliteHistory implements HistoryStore {
  private readonly gatherer: AttemptGatherer;

  constructor(
    private readonly queue: string,
    private readonly db: Database.Database,
    private readonly sql: FleetStatements,
    private readonly access: SqliteAccess,
  ) {
    this.gatherer = new AttemptGatherer(gatherMs, (attempts) =>
      this.access.write(() => {
        for (const a of attempts) {
          this.sql.insertAttempt.run(
            this.queue, a.taskId, a.kind, a.command, a.workerId, a.host, a.pid, a.startedAt, a.endedAt,
            a.durationMs, a.outcome, a.stop, a.exitCode, a.signal, a.error, a.output,
          );
        }
      }, attempts.length === 1),
    );
  }

  record(attempts: readonly AttemptRecord[]): Promise<void> {
    return this.gatherer.record(attempts);
  }

  /** Writes the gathered attempts in this turn's transaction; never rejects (their callers get the failure). */
  write(): Promise<void> {
    return this.gatherer.flush();
  }

  async query(filter: HistoryFilter): Promise<AttemptRecord[]> {
    const where = ['queue = ?'];
    const params: Array<string | number> = [this.queue];
    if (filter.since !== undefined) {
      where.push('ended_at >= ?');
      params.push(filter.since);
    }
    if (filter.taskId !== undefined) {
      where.push('task_id = ?');
      params.push(filter.taskId);
    }
    if (filter.workerId !== undefined) {
      where.push('worker_id = ?');
      params.push(filter.workerId);
    }
    if (filter.outcomes !== undefined) {
      where.push(`outcome IN (${filter.outcomes.map(() => '?').join(', ')})`);
      params.push(...filter.outcomes);
    }
    params.push(filter.limit);
    const sql = `SELECT ${columns} FROM attempts WHERE ${where.join(' AND ')} ORDER BY ended_at DESC, id DESC LIMIT ?`;
    return this.access.read(() => this.db.prepare<Array<string | number>, AttemptRow>(sql).all(...params)).map(attemptFromRow);
  }

  async countSince(since: readonly number[]): Promise<OutcomeCounts[]> {
    return this.access.read(() =>
      since.map((time) => {
        const counts = noOutcomes();
        for (const row of this.sql.countSince.all(this.queue, time)) {
          if ((attemptOutcomes as readonly string[]).includes(row.outcome)) counts[row.outcome as AttemptOutcome] = row.n;
        }
        return counts;
      }),
    );
  }

  async succeeded(): Promise<Set<string>> {
    const found = new Set<string>();
    this.access.read(() => {
      for (const row of this.sql.succeeded.iterate(this.queue)) found.add(row.task_id);
    });
    return found;
  }

  async prune(policy: RetentionPolicy, batch: number): Promise<number> {
    const cutoff = this.access.read(() => {
      const span = this.sql.idSpan.get(this.queue);
      if (span?.low == null || span.high == null || span.high - span.low + 1 <= policy.maxAttempts) return undefined;
      return this.sql.beyondCount.get(this.queue, policy.maxAttempts)?.id;
    });
    return this.access.write(() => {
      let deleted = 0;
      if (cutoff !== undefined) deleted += this.sql.deleteUpTo.run(this.queue, cutoff, batch).changes;
      if (deleted < batch) deleted += this.sql.deleteOlder.run(this.queue, Date.now() - policy.maxAgeMs, batch - deleted).changes;
      return deleted;
    }, true);
  }

  /** Writes the gathered attempts now; resolves once they are committed. */
  async flush(): Promise<void> {
    await this.write();
    // A write the timer queued earlier commits in this batch or before it.
    await this.access.write(() => undefined, true);
  }
}

class SqliteWorkerRows implements WorkerRowStore {
  constructor(
    private readonly queue: string,
    private readonly sql: FleetStatements,
    private readonly access: SqliteAccess,
  ) {}

  async put(row: WorkerRow): Promise<void> {
    await this.access.write(() => this.sql.putWorker.run(this.queue, row.workerId, row.lastSeen, JSON.stringify(row)), true);
  }

  async list(): Promise<WorkerRow[]> {
    const rows = this.access.read(() => this.sql.listWorkers.all(this.queue));
    return rows.flatMap((row) => {
      const parsed = readWorkerRow(JSON.parse(row.body));
      return parsed ? [parsed] : [];
    });
  }

  async prune(seenBefore: number): Promise<number> {
    return this.access.write(() => this.sql.pruneWorkers.run(this.queue, seenBefore).changes, true);
  }
}
