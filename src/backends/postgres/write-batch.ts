/**
 * The writes of one event-loop turn in one statement, one round trip: a busy
 * worker settles many tasks and extends many leases in each turn, producers
 * push many batches at once, and a round trip to the server costs far more
 * than the rows it changes. The equivalent of sqlite-write-batch.ts.
 *
 * Writes queue up; at the end of the turn they go out as one statement of
 * data-modifying CTEs (`WITH pushed AS (INSERT …), completed AS (DELETE …),
 * …`), which commits or fails as a whole. At most `maxInFlight` statements
 * are in flight: the writes that arrive meanwhile form the next one, so the
 * batch grows with the load. Settles name their lease by message id and
 * token; the statement returns the ids it matched, and a settle whose lease
 * it did not match resolves `false` (the caller's LeaseLost). Two writes of
 * one row never share a statement (its CTEs see the same snapshot, so the
 * second write would be lost) nor run in two statements at once (they could
 * wait on each other's row locks): such a write waits for the next statement
 * after the one that has its row.
 *
 * Failures: a deadlock or serialization failure (the statement was rolled
 * back) runs the batch again; any other error the server answers with (it,
 * too, rolled the statement back) runs each write of the batch alone, so that
 * one bad write (a body PostgreSQL cannot store) fails only its own call;
 * an error without an answer (the connection died, a client timeout) fails
 * every write of the batch, since the statement may or may not have committed.
 * Pushes and releases notify the queue's listeners (pg_notify on the schema's
 * channel, with the queue's name) in the same statement. A statement with
 * pushes commits synchronously (the session's default is asynchronous, see
 * backend.ts): a push is acknowledged only once it is on disk.
 *
 * Attempts of the history (fleet.ts), gathered, ride in the statement of
 * the turn they are handed over in.
 */
import type { AttemptRecord } from '../fleet.js';
import { isRetryable, serverRejected } from './errors.js';

export type Write =
  | { readonly kind: 'push'; readonly queue: string; readonly bodies: readonly string[] }
  | { readonly kind: 'complete'; readonly id: string; readonly token: string }
  | { readonly kind: 'extend'; readonly id: string; readonly token: string; readonly visibilityMs: number }
  | { readonly kind: 'release'; readonly id: string; readonly token: string; readonly body: string | null }
  | { readonly kind: 'result'; readonly queue: string; readonly taskId: string; readonly body: string }
  | { readonly kind: 'attempts'; readonly queue: string; readonly attempts: readonly AttemptRecord[] };

type Settle = Extract<Write, { kind: 'complete' | 'extend' | 'release' }>;

/** Runs a named statement; the rows name what each settle matched. */
export type RunStatement = (name: string, text: string, values: unknown[]) => Promise<Array<{ kind: string; id: string }>>;

interface PendingWrite {
  readonly write: Write;
  /** Resolves true when done, false for a settle whose lease was not matched. */
  readonly resolve: (applied: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/** How often a batch that hit a deadlock or serialization failure is sent again. */
const MAX_RETRIES = 3;

export class PostgresWriteBatch {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** The rows that statements in flight write: a later write to one of them waits for its statement. */
  private readonly busy = new Set<string>();
  private drained: Array<() => void> = [];

  /**
   * @param run sends a statement (on a pooled connection).
   * @param maxInFlight statements sent at once, each on its own connection (default 2).
   */
  constructor(
    private readonly schema: string,
    private readonly run: RunStatement,
    private readonly maxInFlight = 2,
  ) {}

  /** Queues a write for this turn's statement. */
  submit(write: Write): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every queued write is done (or failed). */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private get idle(): boolean {
    return this.pending.length === 0 && this.inFlight === 0 && !this.scheduled;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight < this.maxInFlight) {
      const batch = this.take();
      if (batch.length > 0) {
        const keys = batch.map((pending) => rowKey(pending.write)).filter((key) => key !== undefined);
        for (const key of keys) this.busy.add(key);
        this.inFlight += 1;
        void this.send(batch, 0).finally(() => {
          this.inFlight -= 1;
          for (const key of keys) this.busy.delete(key);
          this.schedule();
          if (this.idle) for (const resolve of this.drained.splice(0)) resolve();
        });
      }
    }
    if (this.idle) for (const resolve of this.drained.splice(0)) resolve();
  }

  /**
   * The queued writes for the next statement: all of them but those that
   * write a row already in it or in a statement in flight (they wait, in order).
   */
  private take(): PendingWrite[] {
    const keys = new Set<string>();
    const batch: PendingWrite[] = [];
    const rest: PendingWrite[] = [];
    for (const pending of this.pending) {
      const key = rowKey(pending.write);
      if (key !== undefined && (keys.has(key) || this.busy.has(key))) {
        rest.push(pending);
        continue;
      }
      if (key !== undefined) keys.add(key);
      batch.push(pending);
    }
    this.pending = rest;
    return batch;
  }

  private async send(batch: readonly PendingWrite[], attempt: number): Promise<void> {
    const { name, text, values } = statement(
      batch.map((pending) => pending.write),
      this.schema,
    );
    let rows;
    try {
      rows = await this.run(name, text, values);
    } catch (err) {
      if (isRetryable(err) && attempt < MAX_RETRIES) return this.send(batch, attempt + 1);
      if (serverRejected(err) && batch.length > 1) {
        for (const pending of batch) await this.send([pending], 0);
        return;
      }
      for (const pending of batch) pending.reject(err);
      return;
    }
    const matched = new Map<string, number>();
    for (const row of rows) {
      const key = `${row.kind}:${row.id}`;
      matched.set(key, (matched.get(key) ?? 0) + 1);
    }
    for (const pending of batch) {
      const write = pending.write;
      if (write.kind === 'push' || write.kind === 'result' || write.kind === 'attempts') {
        pending.resolve(true);
        continue;
      }
      const key = `${write.kind}:${write.id}`;
      const count = matched.get(key) ?? 0;
      if (count > 0) matched.set(key, count - 1);
      pending.resolve(count > 0);
    }
  }
}

/** The row a write changes, for keeping two writes of one row out of one statement. */
function rowKey(write: Write): string | undefined {
  switch (write.kind) {
    case 'push':
    case 'attempts':
      return undefined;
    case 'result':
      return `result:${write.queue}\0${write.taskId}`;
    default:
      return `message:${write.id}`;
  }
}

function ofKind<K extends Write['kind']>(writes: readonly Write[], kind: K): Array<Extract<Write, { kind: K }>> {
  return writes.filter((write): write is Extract<Write, { kind: K }> => write.kind === kind);
}

/**
 * The CTE of each kind of settle: `s` is the batch's settles of that kind
 * (`id`, `token` and one more column for some), `m` the message it matches.
 */
const settleCtes: { readonly [K in Settle['kind']]: { cte: string; change: string; extra?: { type: string; value: (write: Extract<Settle, { kind: K }>) => unknown } } } = {
  complete: { cte: 'completed', change: 'DELETE FROM MESSAGES m USING SETTLES' },
  extend: {
    cte: 'extended',
    change: "UPDATE MESSAGES m SET visible_at = now() + s.extra * interval '1 millisecond' FROM SETTLES",
    extra: { type: 'float8[]', value: (write) => write.visibilityMs },
  },
  release: {
    cte: 'released',
    change: 'UPDATE MESSAGES m SET visible_at = now(), token = NULL, deliveries = 0, body = coalesce(s.extra, m.body) FROM SETTLES',
    extra: { type: 'text[]', value: (write) => write.body },
  },
};

/**
 * One statement for the batch: a CTE for each kind of write present, and rows
 * `(kind, id)` for the settles that matched a lease. Its name (for a prepared
 * statement) says which kinds it has, so each connection parses each shape once.
 */
export function statement(writes: readonly Write[], schema: string): { name: string; text: string; values: unknown[] } {
  const messages = `"${schema}".messages`;
  const values: unknown[] = [];
  const param = (value: unknown, type: string): string => {
    values.push(value);
    return `$${values.length}::${type}`;
  };
  const ctes: string[] = [];
  const outputs: string[] = [];
  const notifying: string[] = [];

  const pushes = ofKind(writes, 'push');
  if (pushes.length > 0) {
    const queues = param(pushes.flatMap((push) => push.bodies.map(() => push.queue)), 'text[]');
    const bodies = param(pushes.flatMap((push) => push.bodies), 'text[]');
    ctes.push(`pushed AS (INSERT INTO ${messages} (queue, body) SELECT * FROM unnest(${queues}, ${bodies}) RETURNING queue)`);
    notifying.push('SELECT queue FROM pushed');
  }
  for (const kind of ['complete', 'extend', 'release'] as const) {
    const settles = ofKind(writes, kind);
    if (settles.length === 0) continue;
    const { cte, change, extra } = settleCtes[kind] as (typeof settleCtes)['complete'] & { extra?: { type: string; value: (write: Settle) => unknown } };
    const columns = [param(settles.map((write) => write.id), 'bigint[]'), param(settles.map((write) => write.token), 'uuid[]')];
    if (extra) columns.push(param(settles.map(extra.value), extra.type));
    const from = `unnest(${columns.join(', ')}) AS s(id, token${extra ? ', extra' : ''})`;
    const sql = change.replace('MESSAGES', messages).replace('SETTLES', from);
    ctes.push(`${cte} AS (${sql} WHERE m.id = s.id AND m.token = s.token RETURNING m.id, m.queue)`);
    outputs.push(`SELECT '${kind}' AS kind, id::text AS id FROM ${cte}`);
    if (kind === 'release') notifying.push('SELECT queue FROM released');
  }
  const results = ofKind(writes, 'result');
  if (results.length > 0) {
    const queues = param(results.map((write) => write.queue), 'text[]');
    const taskIds = param(results.map((write) => write.taskId), 'text[]');
    const bodies = param(results.map((write) => write.body), 'text[]');
    ctes.push(
      `stored AS (INSERT INTO "${schema}".results (queue, task_id, body) SELECT * FROM unnest(${queues}, ${taskIds}, ${bodies}) ` +
        'ON CONFLICT (queue, task_id) DO UPDATE SET body = excluded.body, created_at = now())',
    );
  }
  const attempts = ofKind(writes, 'attempts');
  if (attempts.length > 0) ctes.push(attemptsInsert(attempts, `"${schema}".attempts`, param));
  // Sessions commit asynchronously (backend.ts); a push is acknowledged only once it is on disk.
  if (pushes.length > 0) outputs.push("SELECT 'durable' AS kind, set_config('synchronous_commit', 'on', true) AS id");
  if (notifying.length > 0) {
    ctes.push(`notified AS (SELECT pg_notify(${param(schema, 'text')}, q) FROM (${notifying.join(' UNION ')}) AS n(q))`);
    outputs.push("SELECT 'notify' AS kind, count(*)::text AS id FROM notified");
  }
  if (outputs.length === 0) outputs.push('SELECT NULL::text AS kind, NULL::text AS id WHERE false');
  const kinds = [...new Set(writes.map((write) => write.kind))].sort().join('+');
  return { name: `jobq:${schema}:write:${kinds}`, text: `WITH ${ctes.join(',\n')}\n${outputs.join('\nUNION ALL ')}`, values };
}

/**
 * Text as PostgreSQL stores it: NUL, which it cannot hold, and UTF-16
 * surrogates without their pair (a command or an output tail cut in the
 * middle of a character), which JSON would carry as escapes it refuses,
 * become U+FFFD; the rest of the text is kept.
 */
const unstorable = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
export function storable(text: string): string;
export function storable(text: string | null): string | null;
export function storable(text: string | null): string | null {
  return text === null ? null : text.replace(unstorable, '\uFFFD');
}

/** An attempt as a row of the table (times in epoch ms: the statement makes them timestamptz). */
function attemptRow(queue: string, a: AttemptRecord) {
  return {
    queue,
    task_id: storable(a.taskId),
    kind: storable(a.kind),
    command: storable(a.command),
    worker_id: storable(a.workerId),
    host: storable(a.host),
    pid: a.pid,
    started_at: a.startedAt,
    ended_at: a.endedAt,
    duration_ms: a.durationMs,
    outcome: a.outcome,
    stop: storable(a.stop),
    exit_code: a.exitCode,
    signal: storable(a.signal),
    error: storable(a.error),
    output: storable(a.output),
  };
}

/** The type of each column of an attempt row, in the table's order. */
const attemptColumns = [
  ['queue', 'text'],
  ['task_id', 'text'],
  ['kind', 'text'],
  ['command', 'text'],
  ['worker_id', 'text'],
  ['host', 'text'],
  ['pid', 'integer'],
  ['started_at', 'float8'],
  ['ended_at', 'float8'],
  ['duration_ms', 'float8'],
  ['outcome', 'text'],
  ['stop', 'text'],
  ['exit_code', 'integer'],
  ['signal', 'text'],
  ['error', 'text'],
  ['output', 'text'],
] as const satisfies ReadonlyArray<readonly [keyof ReturnType<typeof attemptRow>, string]>;

/**
 * The CTE that inserts the batch's attempts. They go as one JSON array of
 * rows: V8 writes it and the server reads it several times faster than a
 * text[] parameter per column, element by element, which cost a no-op
 * function task a noticeable share of its time.
 */
function attemptsInsert(
  writes: ReadonlyArray<Extract<Write, { kind: 'attempts' }>>,
  table: string,
  param: (value: unknown, type: string) => string,
): string {
  const rows = param(JSON.stringify(writes.flatMap((write) => write.attempts.map((attempt) => attemptRow(write.queue, attempt)))), 'json');
  const names = attemptColumns.map(([column]) => column).join(', ');
  const selected = attemptColumns.map(([column]) => (column.endsWith('_at') ? `to_timestamp(${column} / 1000)` : column)).join(', ');
  const types = attemptColumns.map(([column, type]) => `${column} ${type}`).join(', ');
  return `recorded AS (INSERT INTO ${table} (${names}) SELECT ${selected} FROM json_to_recordset(${rows}) AS a(${types}))`;
}
