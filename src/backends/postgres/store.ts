/**
 * One queue in PostgreSQL: the rows of `SCHEMA.messages` whose `queue` is its
 * name. A lease picks the oldest visible rows with `FOR UPDATE SKIP LOCKED`
 * (workers that lease at the same moment take different rows, none waits),
 * gives each a fresh token, moves its `visible_at` past the visibility
 * timeout and counts a delivery; every time is the database's clock, never
 * the worker's. Settles (through the write batch) match the message id and
 * the token, so a settle whose lease expired and was taken over, or whose
 * message is gone, is LeaseLostError. `deliveries` counts leases since the
 * push or the last release, exactly as on `local/`.
 */
import type pg from 'pg';
import { LeaseLostError, type JobqError } from '../../errors.js';
import type { AtomicPush, Lease, PeekedMessage, QueueStore } from '../backend.js';
import { PostgresAtomicPush } from './push.js';
import type { PushListener } from './push-listener.js';
import type { PostgresWriteBatch, Write } from './write-batch.js';

/** What the queues of one backend share. */
export interface StoreContext {
  readonly schema: string;
  /** The most messages one lease or peek returns. */
  readonly maxLeaseBatch: number;
  readonly maxPeek: number;
  readonly writes: PostgresWriteBatch;
  readonly listener: PushListener;
  /** Runs a named statement once the schema is ready; rejects with the driver's error. */
  query<Row>(name: string, text: string, values: unknown[]): Promise<Row[]>;
  /** A failure of `action` on `queue`, as one line without secrets. */
  failure(err: unknown, action: string, queue: string): JobqError;
  /** Makes sure the schema exists and is current. */
  ready(): Promise<void>;
  /** Opens a connected session of its own (a large atomic push stages in it). */
  connect(): Promise<pg.Client>;
  /** The sessions' statement timeout, ms. */
  readonly statementTimeoutMs: number;
}

/** Messages read at once by `scan`. */
const scanPage = 2000;

interface LeasedRow {
  id: string;
  body: string;
  deliveries: number;
  token: string;
}

/** Clamps a requested count to [0, max]; NaN is 0. */
function count(requested: number, max: number): number {
  const value = Math.min(Math.floor(requested), max);
  return value >= 1 ? value : 0;
}

/** Ascending by numeric id (ids are bigint text: a shorter one is smaller). */
function byId(a: { id: string }, b: { id: string }): number {
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class PostgresQueue implements QueueStore {
  /** The listener's sequence when the last lease went out (see push-listener.ts). */
  private leaseMark: number | undefined;
  private readonly sql: { lease: string; peek: string; size: string; clear: string; takeResults: string; scan: string };

  constructor(
    readonly name: string,
    private readonly context: StoreContext,
  ) {
    const messages = `"${context.schema}".messages`;
    this.sql = {
      lease: `WITH picked AS (
          SELECT id FROM ${messages} WHERE queue = $1 AND visible_at <= now()
          ORDER BY visible_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
        UPDATE ${messages} m
        SET token = gen_random_uuid(), visible_at = now() + $3::float8 * interval '1 millisecond', deliveries = m.deliveries + 1
        FROM picked WHERE m.id = picked.id
        RETURNING m.id::text AS id, m.body, m.deliveries, m.token::text AS token`,
      // m.id: a bare `id` in ORDER BY would be the output column, text, in which '10' sorts before '9'.
      peek: `SELECT m.id::text AS id, m.body, m.deliveries FROM ${messages} m
        WHERE m.queue = $1 AND m.visible_at <= now() ORDER BY m.visible_at, m.id LIMIT $2`,
      size: `SELECT count(*)::int AS n FROM ${messages} WHERE queue = $1`,
      clear: `DELETE FROM ${messages} WHERE queue = $1`,
      takeResults: `DELETE FROM "${context.schema}".results WHERE queue = $1 AND task_id = ANY($2::text[]) RETURNING task_id, body`,
      scan: `SELECT m.id::text AS id, m.body FROM ${messages} m WHERE m.queue = $1 AND m.id > $2::bigint ORDER BY m.id LIMIT $3`,
    };
  }

  private async query<Row>(statement: keyof PostgresQueue['sql'], values: unknown[], action: string): Promise<Row[]> {
    try {
      return await this.context.query<Row>(`jobq:${this.context.schema}:${statement}`, this.sql[statement], values);
    } catch (err) {
      throw this.context.failure(err, action, this.name);
    }
  }

  /** Sends a write with this turn's batch; false when it is a settle whose lease did not match. */
  private async write(write: Write, action: string): Promise<boolean> {
    try {
      return await this.context.writes.submit(write);
    } catch (err) {
      throw this.context.failure(err, action, this.name);
    }
  }

  private async settle(lease: Lease, write: Write & { kind: 'complete' | 'extend' | 'release' }): Promise<void> {
    if (!(await this.write(write, `${write.kind} message ${lease.messageId}`))) {
      throw new LeaseLostError(`${write.kind} failed: the lease on message ${lease.messageId} in ${this.name} is gone`);
    }
  }

  /** An all-or-nothing push (push.ts): held, or staged in a session of its own, until its commit. */
  async beginPush(): Promise<AtomicPush> {
    await this.create();
    const context = this.context;
    return new PostgresAtomicPush({
      queue: this.name,
      schema: context.schema,
      statementTimeoutMs: context.statementTimeoutMs,
      push: (bodies) => this.push(bodies),
      connect: () => context.connect(),
      failure: (err, action) => context.failure(err, action, this.name),
    });
  }

  /** Every message of the queue, leased ones included, in pages by id (a message pushed meanwhile may be seen or not). */
  async scan(visit: (body: string) => void): Promise<void> {
    let after = '0';
    for (;;) {
      const rows = await this.query<{ id: string; body: string }>('scan', [this.name, after, scanPage], 'scan');
      for (const row of rows) visit(row.body);
      const last = rows.at(-1);
      if (!last || rows.length < scanPage) return;
      after = last.id;
    }
  }

  async create(): Promise<void> {
    // Queues exist implicitly in the messages table; the schema must.
    try {
      await this.context.ready();
    } catch (err) {
      throw this.context.failure(err, 'prepare the schema', this.name);
    }
  }

  async push(bodies: readonly string[]): Promise<void> {
    if (bodies.length === 0) return;
    await this.write({ kind: 'push', queue: this.name, bodies }, bodies.length === 1 ? 'push' : `push of ${bodies.length} messages`);
  }

  async lease(max: number, visibilityMs: number): Promise<Lease[]> {
    const limit = count(max, this.context.maxLeaseBatch);
    if (limit === 0) return [];
    this.leaseMark = this.context.listener.mark();
    const rows = await this.query<LeasedRow>('lease', [this.name, limit, visibilityMs], 'lease');
    return rows.sort(byId).map((row) => ({ messageId: row.id, token: row.token, body: row.body, deliveries: row.deliveries }));
  }

  async extend(lease: Lease, visibilityMs: number): Promise<Lease> {
    await this.settle(lease, { kind: 'extend', id: lease.messageId, token: lease.token, visibilityMs });
    return lease;
  }

  async complete(lease: Lease): Promise<void> {
    await this.settle(lease, { kind: 'complete', id: lease.messageId, token: lease.token });
  }

  async release(lease: Lease, body?: string): Promise<void> {
    await this.settle(lease, { kind: 'release', id: lease.messageId, token: lease.token, body: body ?? null });
  }

  async peek(max: number): Promise<PeekedMessage[]> {
    const limit = count(max, this.context.maxPeek);
    if (limit === 0) return [];
    const rows = await this.query<Omit<LeasedRow, 'token'>>('peek', [this.name, limit], 'peek');
    return rows.map((row) => ({ messageId: row.id, body: row.body, deliveries: row.deliveries }));
  }

  async size(): Promise<number> {
    const rows = await this.query<{ n: number }>('size', [this.name], 'read the queue size');
    return rows[0]?.n ?? 0;
  }

  async clear(): Promise<void> {
    await this.query('clear', [this.name], 'clear');
  }

  async putResult(taskId: string, result: string): Promise<void> {
    await this.write({ kind: 'result', queue: this.name, taskId, body: result }, `store the result of task ${taskId}`);
  }

  async takeResults(taskIds: readonly string[]): Promise<Map<string, string>> {
    if (taskIds.length === 0) return new Map();
    const rows = await this.query<{ task_id: string; body: string }>('takeResults', [this.name, taskIds], 'take results');
    return new Map(rows.map((row) => [row.task_id, row.body]));
  }

  /**
   * Resolves when a push or release to this queue is notified, at once if
   * one was since the last lease began (or listening (re)started since: a
   * push may have gone unheard), at the timeout, or on abort; never rejects.
   */
  waitForPush(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const listener = this.context.listener;
    return listener.wait(this.name, this.leaseMark ?? listener.mark(), timeoutMs, signal);
  }
}
