/**
 * The PostgreSQL backend's fleet records (src/backends/fleet.ts), in the
 * schema's `attempts` and `workers` tables (migration 2): a queue's attempt
 * history and its live worker rows, which people may also read with SQL
 * (times are timestamptz, a worker's row is jsonb).
 *
 * Attempts are gathered for up to `gatherMs`, then handed together to the
 * write batch, in whose statement of that turn they ride: the settle path
 * pays no round trip and no commit for them. (Riding in the statement of
 * each settle, measured: a no-op function task's statement took 30 µs more
 * per attempt, mostly planning a larger statement each time; gathered, an
 * attempt costs its row, about 7 µs.) A process killed within `gatherMs` of
 * an attempt loses its record, never a task; `flush` and the backend's close
 * write what is gathered. Reads page by the (queue, id) key where they
 * may be long (the succeeded ids of `push --skip-done`), so that no read
 * holds a million rows at once. Pruning by count finds the id beyond the
 * newest `maxAttempts` once per pruning round (a walk of the key, skipped
 * when the queue's id span shows it cannot have that many) and deletes up
 * to it a batch at a time.
 */
import type { JobqError } from '../../errors.js';
import { AttemptGatherer } from '../attempt-gatherer.js';
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
} from '../fleet.js';
import { storable, type PostgresWriteBatch } from './write-batch.js';

/** What the fleet records of one backend share with its queues. */
export interface FleetContext {
  readonly schema: string;
  readonly writes: PostgresWriteBatch;
  /** Runs a named statement once the schema is ready; rejects with the driver's error. */
  query<Row>(name: string, text: string, values: unknown[]): Promise<Row[]>;
  /** A failure of `action` on `what` (`history of NAME`), as one line without secrets. */
  failure(err: unknown, action: string, what: string): JobqError;
}

/** Rows of the succeeded ids read at once. */
const pageSize = 10_000;
/** How long attempts are gathered before they are written together. */
const gatherMs = 100;

/** A timestamptz column as epoch ms (float8: what the records hold). */
const epochMs = (column: string): string => `(extract(epoch FROM ${column}) * 1000)::float8`;
/** An epoch-ms parameter as timestamptz. */
const timestamp = (param: string): string => `to_timestamp(${param}::float8 / 1000)`;

/** Statements of one queue's records, each run as a named (prepared) statement. */
class Statements {
  constructor(
    private readonly context: FleetContext,
    private readonly queue: string,
    private readonly what: string,
  ) {}

  async run<Row>(name: string, text: string, values: unknown[], action: string): Promise<Row[]> {
    try {
      return await this.context.query<Row>(`jobq:${this.context.schema}:${name}`, text, [this.queue, ...values]);
    } catch (err) {
      throw this.context.failure(err, action, `${this.what} of ${this.queue}`);
    }
  }

  /** Runs a `DELETE … RETURNING 1` and counts what it deleted. */
  async deleted(name: string, deletion: string, values: unknown[], action: string): Promise<number> {
    const rows = await this.run<{ n: number }>(name, `WITH d AS (${deletion} RETURNING 1) SELECT count(*)::int AS n FROM d`, values, action);
    return rows[0]?.n ?? 0;
  }
}

/** The fleet records of one backend: one history per queue (its gathered attempts), and the worker rows. */
export class PostgresFleet {
  private readonly histories = new Map<string, PostgresHistory>();

  constructor(private readonly context: FleetContext) {}

  history(queue: string): HistoryStore {
    let history = this.histories.get(queue);
    if (!history) this.histories.set(queue, (history = new PostgresHistory(queue, this.context)));
    return history;
  }

  workerRows(queue: string): WorkerRowStore {
    return new PostgresWorkerRows(queue, this.context);
  }

  /** Hands every gathered attempt to the write batch; resolves once they are written (or failed: their callers hear of it). */
  async writeGathered(): Promise<void> {
    await Promise.all([...this.histories.values()].map((history) => history.write()));
  }
}

class PostgresHistory implements HistoryStore {
  private readonly table: string;
  private readonly sql: Statements;
  private readonly gatherer: AttemptGatherer;
  /** The current pruning round's id beyond the newest maxAttempts (null: none), found by its first call. */
  private round: { cutoff: string | null } | undefined;

  constructor(
    queue: string,
    private readonly context: FleetContext,
  ) {
    this.table = `"${context.schema}".attempts`;
    this.sql = new Statements(context, queue, 'history');
    this.gatherer = new AttemptGatherer(gatherMs, async (attempts) => {
      try {
        await context.writes.submit({ kind: 'attempts', queue, attempts });
      } catch (err) {
        throw context.failure(err, `record ${attempts.length} attempt(s)`, `history of ${queue}`);
      }
    });
  }

  record(attempts: readonly AttemptRecord[]): Promise<void> {
    return this.gatherer.record(attempts);
  }

  /** Writes the gathered attempts; never rejects (their callers get the failure). */
  write(): Promise<void> {
    return this.gatherer.flush();
  }

  /** Writes the gathered attempts now; resolves once they, and every write queued before, are done. */
  async flush(): Promise<void> {
    await this.write();
    await this.context.writes.drain();
  }

  async query(filter: HistoryFilter): Promise<AttemptRecord[]> {
    const where = ['a.queue = $1'];
    const values: unknown[] = [];
    const shape: string[] = [];
    const param = (value: unknown): string => {
      values.push(value);
      return `$${values.length + 1}`;
    };
    if (filter.since !== undefined) {
      where.push(`a.ended_at >= ${timestamp(param(filter.since))}`);
      shape.push('since');
    }
    if (filter.taskId !== undefined) {
      where.push(`task_id = ${param(filter.taskId)}`);
      shape.push('task');
    }
    if (filter.workerId !== undefined) {
      where.push(`worker_id = ${param(filter.workerId)}`);
      shape.push('worker');
    }
    if (filter.outcomes !== undefined) {
      where.push(`outcome = ANY(${param(filter.outcomes)}::text[])`);
      shape.push('outcomes');
    }
    const text =
      `SELECT task_id, kind, command, worker_id, host, pid, ${epochMs('started_at')} AS started_at, ${epochMs('ended_at')} AS ended_at, ` +
      `duration_ms, outcome, stop, exit_code, signal, error, output FROM ${this.table} a ` +
      // The table's columns (a.), not the outputs of the same names: those are epoch ms, and have no index.
      `WHERE ${where.join(' AND ')} ORDER BY a.ended_at DESC, a.id DESC LIMIT ${param(Math.max(0, filter.limit))}`;
    const rows = await this.sql.run<AttemptRow>(`history:${shape.join('+')}`, text, values, 'read the history');
    return rows.map(attemptFromRow);
  }

  async countSince(since: readonly number[]): Promise<OutcomeCounts[]> {
    const rows = await this.sql.run<{ i: number; outcome: string; n: number }>(
      'history:count',
      `SELECT s.i::int AS i, a.outcome, count(*)::int AS n FROM unnest($2::float8[]) WITH ORDINALITY AS s(t, i) ` +
        `JOIN ${this.table} a ON a.queue = $1 AND a.ended_at >= ${timestamp('s.t')} GROUP BY s.i, a.outcome`,
      [since],
      'count the history',
    );
    const counts = since.map(() => noOutcomes());
    for (const row of rows) {
      const bucket = counts[row.i - 1];
      if (bucket && (attemptOutcomes as readonly string[]).includes(row.outcome)) bucket[row.outcome as AttemptOutcome] = row.n;
    }
    return counts;
  }

  async succeeded(): Promise<Set<string>> {
    const found = new Set<string>();
    let after = '0';
    for (;;) {
      const rows = await this.sql.run<{ id: string; task_id: string }>(
        'history:succeeded',
        `SELECT a.id::text AS id, a.task_id FROM ${this.table} a WHERE a.queue = $1 AND a.id > $2::bigint AND a.outcome = 'succeeded' ORDER BY a.id LIMIT $3`,
        [after, pageSize],
        'read the succeeded tasks',
      );
      for (const row of rows) found.add(row.task_id);
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) return found;
      after = last.id;
    }
  }

  async prune(policy: RetentionPolicy, batch: number): Promise<number> {
    try {
      this.round ??= { cutoff: await this.beyondCount(policy.maxAttempts) };
      let deleted = 0;
      if (this.round.cutoff !== null) {
        deleted = await this.sql.deleted(
          'history:prune-count',
          `DELETE FROM ${this.table} WHERE queue = $1 AND id IN (SELECT id FROM ${this.table} WHERE queue = $1 AND id <= $2::bigint ORDER BY id LIMIT $3)`,
          [this.round.cutoff, batch],
          'prune the history',
        );
        if (deleted < batch) this.round.cutoff = null;
      }
      if (deleted < batch) {
        deleted += await this.sql.deleted(
          'history:prune-age',
          `DELETE FROM ${this.table} WHERE queue = $1 AND id IN ` +
            `(SELECT id FROM ${this.table} WHERE queue = $1 AND ended_at < ${timestamp('$2')} ORDER BY ended_at LIMIT $3)`,
          [Date.now() - policy.maxAgeMs, batch - deleted],
          'prune the history',
        );
      }
      // A round ends with a call that found less than a batch to delete.
      if (deleted < batch) this.round = undefined;
      return deleted;
    } catch (err) {
      this.round = undefined;
      throw err;
    }
  }

  /** The id of the newest attempt beyond the newest `maxAttempts`, or null. */
  private async beyondCount(maxAttempts: number): Promise<string | null> {
    const [span] = await this.sql.run<{ low: string | null; high: string | null }>(
      'history:span',
      `SELECT min(id)::text AS low, max(id)::text AS high FROM ${this.table} WHERE queue = $1`,
      [],
      'prune the history',
    );
    // Ids are the table's, shared by every queue: the span bounds the queue's count from above.
    if (span?.low == null || span.high == null || Number(span.high) - Number(span.low) < maxAttempts) return null;
    const [beyond] = await this.sql.run<{ id: string }>(
      'history:beyond',
      `SELECT a.id::text AS id FROM ${this.table} a WHERE a.queue = $1 ORDER BY a.id DESC OFFSET $2 LIMIT 1`,
      [maxAttempts],
      'prune the history',
    );
    return beyond?.id ?? null;
  }
}

/** A worker row as JSON for jsonb, every text in it storable (write-batch.ts). */
function rowJson(row: WorkerRow): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === 'string' ? storable(value) : value));
}

class PostgresWorkerRows implements WorkerRowStore {
  private readonly table: string;
  private readonly sql: Statements;

  constructor(queue: string, context: FleetContext) {
    this.table = `"${context.schema}".workers`;
    this.sql = new Statements(context, queue, 'worker rows');
  }

  async put(row: WorkerRow): Promise<void> {
    await this.sql.run(
      'workers:put',
      `INSERT INTO ${this.table} (queue, worker_id, last_seen, body) VALUES ($1, $2, ${timestamp('$3')}, $4::jsonb) ` +
        'ON CONFLICT (queue, worker_id) DO UPDATE SET last_seen = excluded.last_seen, body = excluded.body',
      [storable(row.workerId), row.lastSeen, rowJson(row)],
      'write the worker row',
    );
  }

  async list(): Promise<WorkerRow[]> {
    const rows = await this.sql.run<{ body: unknown }>('workers:list', `SELECT body FROM ${this.table} WHERE queue = $1 ORDER BY worker_id`, [], 'read the worker rows');
    return rows.flatMap((row) => {
      const parsed = readWorkerRow(row.body);
      return parsed ? [parsed] : [];
    });
  }

  async prune(seenBefore: number): Promise<number> {
    return this.sql.deleted('workers:prune', `DELETE FROM ${this.table} WHERE queue = $1 AND last_seen < ${timestamp('$2')}`, [seenBefore], 'prune the worker rows');
  }
}
