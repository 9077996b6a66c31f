/**
 * The embedded default backend (`local/NAME`): one SQLite file in WAL mode that
 * several worker processes on one machine share. Every write runs in an
 * IMMEDIATE transaction so that concurrent processes queue on SQLite's lock
 * (busy timeout) instead of failing; the writes of one event-loop turn share
 * one transaction (sqlite-write-batch.ts). A leased message carries a fresh
 * token and a `visible_at` in the future; settling checks the token, so a
 * worker whose lease expired and was taken over gets LeaseLostError.
 * `deliveries` counts leases since the message was pushed or last released (a
 * release sets it back to 0), so it tells how many deliveries in a row ended
 * unsettled.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BackendError, LeaseLostError, isJobqError } from '../errors.js';
import type { AtomicPush, Backend, BackendCapabilities, Lease, PeekedMessage, QueueStore } from './backend.js';
import type { HistoryStore, WorkerRowStore } from './fleet.js';
import { DatabaseFileWatch, prepareDatabaseFiles } from './sqlite-files.js';
import { fleetSchema, SqliteFleet, type SqliteAccess } from './sqlite-fleet.js';
import { SqliteAtomicPush, SqlitePushStatements, stagedPushesSchema, sweepStagedPushes } from './sqlite-push.js';
import { SqliteWriteBatch } from './sqlite-write-batch.js';
import { WalSpace } from './sqlite-wal-space.js';

const capabilities: BackendCapabilities = {
  maxLeaseBatch: 256,
  maxMessageBytes: undefined,
  maxPeek: 1000,
  results: true,
  atomicPush: true,
  scan: true,
  history: true,
  workerRows: true,
  notifiesPushes: false,
};

const schema = `
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  visible_at INTEGER NOT NULL,
  token TEXT,
  deliveries INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_visibility ON messages (queue, visible_at, id);
CREATE TABLE IF NOT EXISTS results (
  queue TEXT NOT NULL,
  task_id TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (queue, task_id)
);
`;

/** The visible messages of a queue, oldest first: what a lease takes. */
const visibleMessages = 'FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?';

/**
 * The statements of a lease and of a settlement as succeeded, exported for
 * the bench's floor (`bench/baselines/bare-worker.ts`), which runs them
 * without the rest of jobq. A lease reads the messages it takes, then marks
 * them, in one transaction (the same subquery finds the same rows under its
 * write lock): an UPDATE … RETURNING cost a third more per message, as SQLite
 * copies the returned rows into a table of their own first. Bodies are read
 * as text; one with U+FFFD is read again as bytes (`bodyBytes`), so that one
 * that is not UTF-8 is noticed, not mangled.
 */
export const hotPathSql = {
  leaseRead: `SELECT id, body, deliveries ${visibleMessages}`,
  leaseMark: `UPDATE messages SET token = ? || '.' || id, visible_at = ?, deliveries = deliveries + 1
              WHERE id IN (SELECT id ${visibleMessages})`,
  complete: 'DELETE FROM messages WHERE id = ? AND token = ?',
};

/** A stored message; `body` is a Buffer when another program stored a BLOB. */
interface StoredRow {
  id: number;
  body: string | Buffer;
  deliveries: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A stored body as text. Another program may have stored bytes that are not
 * UTF-8 (a BLOB, or invalid TEXT): the body is then given with U+FFFD for
 * the bad bytes, and `bodyError` says so. SQLite's text has U+FFFD in place
 * of bad bytes, so only a text body with U+FFFD in it is read again as bytes
 * (by `bytesOf`) to tell them from a U+FFFD that was stored.
 */
function readBody(row: StoredRow, bytesOf: (id: number) => Buffer | undefined): { body: string; bodyError?: string } {
  const stored = row.body;
  if (typeof stored === 'string' && !stored.includes('\uFFFD')) return { body: stored };
  const text = stored.toString();
  const bytes = typeof stored === 'string' ? bytesOf(row.id) : stored;
  if (bytes === undefined) return { body: text };
  try {
    return { body: utf8.decode(bytes) };
  } catch {
    return { body: text, bodyError: 'message body is not valid UTF-8' };
  }
}

/** SQLite's result codes for a damaged file: retrying cannot help. */
function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** File system errors that retrying cannot mend (a home below a regular file, or not ours to write). */
const permanentFsErrors = new Set(['ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS']);

/**
 * Opens (creating if needed, owner-only) the SQLite file at `file`, after
 * checking that its folder and file are this user's (sqlite-files.ts).
 */
export function openSqliteBackend(file: string, options: { allowSharedHome?: boolean } = {}): Backend {
  let db: Database.Database;
  let watch: DatabaseFileWatch;
  try {
    prepareDatabaseFiles(file, { allowSharedHome: options.allowSharedHome ?? false });
  } catch (err) {
    if (isJobqError(err)) throw err;
    throw cannotOpen(file, err, permanentFsErrors.has((err as NodeJS.ErrnoException).code ?? ''));
  }
  try {
    db = new Database(file);
    // The busy timeout first: switching to WAL takes a lock another process may hold.
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(schema + stagedPushesSchema);
    db.exec(fleetSchema);
    watch = new DatabaseFileWatch(file);
  } catch (err) {
    throw cannotOpen(file, err, isCorruption(err));
  }
  return new SqliteBackend(db, file, watch);
}

function cannotOpen(file: string, err: unknown, permanent: boolean): BackendError {
  return new BackendError(`cannot open the local queue database ${file}: ${(err as Error).message}`, { cause: err, permanent });
}

class SqliteBackend implements Backend {
  readonly capabilities = capabilities;
  readonly description: string;
  private readonly statements;
  private readonly pushStatements: SqlitePushStatements;
  private readonly fleet: SqliteFleet;
  private readonly writes: SqliteWriteBatch;

  constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly watch: DatabaseFileWatch,
  ) {
    this.description = `local:${file}`;
    this.writes = new SqliteWriteBatch(db, new WalSpace(db, path.dirname(file)));
    this.pushStatements = new SqlitePushStatements(db);
    this.statements = {
      insert: db.prepare('INSERT INTO messages (queue, body, visible_at, created_at) VALUES (?, ?, ?, ?)'),
      // A lease's first statement, and all of a peek.
      visible: db.prepare<[string, number, number], StoredRow>(hotPathSql.leaseRead),
      leaseMark: db.prepare<[string, number, string, number, number]>(hotPathSql.leaseMark),
      bodyBytes: db.prepare<[number], { body: Buffer }>('SELECT CAST(body AS BLOB) AS body FROM messages WHERE id = ?'),
      extend: db.prepare('UPDATE messages SET visible_at = ? WHERE id = ? AND token = ?'),
      complete: db.prepare(hotPathSql.complete),
      release: db.prepare(
        'UPDATE messages SET visible_at = ?, token = NULL, deliveries = 0, body = coalesce(?, body) WHERE id = ? AND token = ?',
      ),
      size: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM messages WHERE queue = ?'),
      clear: db.prepare('DELETE FROM messages WHERE queue = ?'),
      putResult: db.prepare('INSERT OR REPLACE INTO results (queue, task_id, body, created_at) VALUES (?, ?, ?, ?)'),
      getResult: db.prepare<[string, string], { body: string }>('SELECT body FROM results WHERE queue = ? AND task_id = ?'),
      deleteResult: db.prepare('DELETE FROM results WHERE queue = ? AND task_id = ?'),
      scan: db.prepare<[string], Pick<StoredRow, 'body'>>('SELECT body FROM messages WHERE queue = ? ORDER BY id'),
    };
    this.fleet = new SqliteFleet(db, (what) => this.access(what));
  }

  queue(name: string): QueueStore {
    return new SqliteQueue(name, this.statements, this.pushStatements, this.writes, this.watch);
  }

  history(name: string): HistoryStore {
    return this.fleet.history(name);
  }

  workerRows(name: string): WorkerRowStore {
    return this.fleet.workerRows(name);
  }

  /** Reads and single-statement writes with SQLite errors as BackendError naming `what`. */
  private access(what: string): SqliteAccess {
    const failure = (err: unknown) =>
      new BackendError(`local ${what}: ${(err as Error).message}`, { cause: err, permanent: isCorruption(err) });
    return {
      read: (fn) => {
        try {
          return fn();
        } catch (err) {
          throw failure(err);
        }
      },
      write: (fn, single) =>
        (single ? this.writes.runStatement(fn) : this.writes.run(fn)).catch((err: unknown) => Promise.reject(failure(err))),
    };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    const gathered = this.fleet.writeGathered();
    this.writes.flush();
    await gathered;
    this.db.close();
  }
}

type Statements = SqliteBackend['statements'];

class SqliteQueue implements QueueStore {
  constructor(
    readonly name: string,
    private readonly sql: Statements,
    private readonly pushSql: SqlitePushStatements,
    private readonly writes: SqliteWriteBatch,
    private readonly file: DatabaseFileWatch,
  ) {}

  /** Runs `fn` in the next batch of writes (one IMMEDIATE transaction). */
  private write<T>(fn: () => T): Promise<T> {
    const moved = this.fileMoved();
    return moved ? Promise.reject(moved) : this.written(this.writes.run(fn));
  }

  /** As `write`, for an `fn` that runs a single statement; a `settlement` may wait to share a commit (SqliteWriteBatch). */
  private writeStatement<T>(fn: () => T, settlement = false): Promise<T> {
    const moved = this.fileMoved();
    if (moved) return Promise.reject(moved);
    return this.written(settlement ? this.writes.settle(fn) : this.writes.runStatement(fn));
  }

  /** A database deleted or replaced while in use is a permanent failure (DatabaseFileWatch). */
  private fileMoved(): BackendError | undefined {
    const problem = this.file.problem();
    return problem === undefined ? undefined : new BackendError(`local queue ${this.name}: ${problem}`, { permanent: true });
  }

  /** A write's result, with SQLite errors turned into BackendError. (Not an async function: one promise fewer per write.) */
  private written<T>(result: Promise<T>): Promise<T> {
    return result.catch((err: unknown) => {
      throw err instanceof LeaseLostError ? err : this.failure(err);
    });
  }

  private read<T>(fn: () => T): T {
    const moved = this.fileMoved();
    if (moved) throw moved;
    try {
      return fn();
    } catch (err) {
      throw this.failure(err);
    }
  }

  private failure(err: unknown): BackendError {
    return new BackendError(`local queue ${this.name}: ${(err as Error).message}`, {
      cause: err,
      permanent: isCorruption(err),
    });
  }

  async create(): Promise<void> {
    // Queues exist implicitly in the messages table.
  }

  async push(bodies: readonly string[]): Promise<void> {
    const now = Date.now();
    await this.write(() => {
      for (const body of bodies) this.sql.insert.run(this.name, body, now, now);
    });
  }

  async beginPush(): Promise<AtomicPush> {
    await this.written(sweepStagedPushes(this.pushSql, this.writes));
    const push = new SqliteAtomicPush(this.name, this.pushSql, this.writes, (body, now) =>
      this.sql.insert.run(this.name, body, now, now),
    );
    // SQLite errors as BackendError, as for every other write.
    return {
      add: (bodies) => this.written(push.add(bodies)),
      commit: () => this.written(push.commit()),
      abort: () => this.written(push.abort()),
    };
  }

  async lease(max: number, visibilityMs: number): Promise<Lease[]> {
    const token = randomUUID();
    const rows = await this.writeStatement(() => {
      const now = Date.now();
      const read = this.sql.visible.all(this.name, now, max);
      if (read.length > 0) this.sql.leaseMark.run(token, now + visibilityMs, this.name, now, max);
      return read;
    });
    rows.sort((a, b) => a.id - b.id);
    return rows.map((row) => ({
      messageId: String(row.id),
      token: `${token}.${row.id}`,
      ...readBody(row, this.bytesOf),
      deliveries: row.deliveries + 1,
    }));
  }

  /** A message's body as bytes, for `readBody` (made once: it is passed for every leased row). */
  private readonly bytesOf = (id: number): Buffer | undefined => this.sql.bodyBytes.get(id)?.body;

  /** A settlement or an extension of `lease`. */
  private settle(lease: Lease, action: string, run: () => { changes: number }): Promise<void> {
    return this.writeStatement(() => {
      if (run().changes === 0) {
        throw new LeaseLostError(`${action} failed: the lease on message ${lease.messageId} in ${this.name} is gone`);
      }
    }, true);
  }

  async extend(lease: Lease, visibilityMs: number): Promise<Lease> {
    await this.settle(lease, 'extend', () =>
      this.sql.extend.run(Date.now() + visibilityMs, Number(lease.messageId), lease.token),
    );
    return lease;
  }

  complete(lease: Lease): Promise<void> {
    return this.settle(lease, 'complete', () => this.sql.complete.run(Number(lease.messageId), lease.token));
  }

  async release(lease: Lease, body?: string): Promise<void> {
    await this.settle(lease, 'release', () =>
      this.sql.release.run(Date.now(), body ?? null, Number(lease.messageId), lease.token),
    );
  }

  async peek(max: number): Promise<PeekedMessage[]> {
    return this.read(() =>
      this.sql.visible.all(this.name, Date.now(), max).map((row) => ({ messageId: String(row.id), ...readBody(row, this.bytesOf), deliveries: row.deliveries })),
    );
  }

  async size(): Promise<number> {
    return this.read(() => this.sql.size.get(this.name)?.n ?? 0);
  }

  async clear(): Promise<void> {
    await this.writeStatement(() => this.sql.clear.run(this.name));
  }

  async scan(visit: (body: string) => void): Promise<void> {
    this.read(() => {
      // A body that is not UTF-8 is visited with U+FFFD for its bad bytes.
      for (const row of this.sql.scan.iterate(this.name)) visit(row.body.toString());
    });
  }

  async putResult(taskId: string, result: string): Promise<void> {
    await this.writeStatement(() => this.sql.putResult.run(this.name, taskId, result, Date.now()));
  }

  async takeResults(taskIds: readonly string[]): Promise<Map<string, string>> {
    return this.write(() => {
      const found = new Map<string, string>();
      for (const taskId of taskIds) {
        const row = this.sql.getResult.get(this.name, taskId);
        if (!row) continue;
        found.set(taskId, row.body);
        this.sql.deleteResult.run(this.name, taskId);
      }
      return found;
    });
  }
}
