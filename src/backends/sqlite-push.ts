/**
 * All-or-nothing pushes on the SQLite backend (`AtomicPush`). A push holds
 * its messages in memory up to a bound; beyond it, it stages them in
 * `staged_pushes` (invisible to workers, a short transaction per chunk, so
 * that a push reading a slow stdin never holds the write lock for long), a
 * row per `stageRowBodies` messages as a JSON array: one insert for many
 * messages costs a fraction of a row each, and the move unpacks them in SQL.
 * `commit` moves the staged rows and the held ones into `messages` in one
 * transaction: a full disk, an error or a crash before that commit leaves
 * the queue as it was.
 *
 * Rows staged by a process that died before its commit or abort are swept
 * when the next push begins: those whose process is gone, and any older than
 * a week (the process id may have been reused).
 */
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import type { AtomicPush } from './backend.js';
import type { SqliteWriteBatch } from './sqlite-write-batch.js';
import { isProcessAlive } from '../os/process-alive.js';

export const stagedPushesSchema = `
CREATE TABLE IF NOT EXISTS staged_pushes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  push_id TEXT NOT NULL,
  body TEXT NOT NULL,
  pid INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS staged_pushes_by_push ON staged_pushes (push_id, id);
`;

/**
 * Characters of message bodies a push holds in memory before it stages them.
 * A held body costs about three times its length (V8 keeps the pieces it was
 * concatenated from), so 2 Mi keeps a push well within a small heap.
 */
const holdBytes = 2 * 1024 * 1024;
/** Messages per staged row (its body is their JSON array). */
const stageRowBodies = 1000;
/** Staged rows older than this are swept whatever their process. */
const staleAfterMs = 7 * 24 * 3600 * 1000;

interface StagedPush {
  push_id: string;
  pid: number;
  created_at: number;
}

export class SqlitePushStatements {
  readonly stage: Database.Statement<[string, string, number, number]>;
  readonly move: Database.Statement<[string, number, number, string]>;
  readonly discard: Database.Statement<[string]>;
  readonly pushers: Database.Statement<[], StagedPush>;

  constructor(db: Database.Database) {
    this.stage = db.prepare('INSERT INTO staged_pushes (push_id, body, pid, created_at) VALUES (?, ?, ?, ?)');
    this.move = db.prepare(
      `INSERT INTO messages (queue, body, visible_at, created_at)
       SELECT ?, message.value, ?, ? FROM staged_pushes AS staged, json_each(staged.body) AS message
       WHERE staged.push_id = ? ORDER BY staged.id, message.key`,
    );
    this.discard = db.prepare('DELETE FROM staged_pushes WHERE push_id = ?');
    this.pushers = db.prepare<[], StagedPush>(
      'SELECT push_id, pid, min(created_at) AS created_at FROM staged_pushes GROUP BY push_id',
    );
  }
}


/** Deletes what dead pushes staged (see the top of this file). */
export function sweepStagedPushes(sql: SqlitePushStatements, writes: SqliteWriteBatch): Promise<void> {
  return writes.run(() => {
    const now = Date.now();
    for (const { push_id: pushId, pid, created_at: createdAt } of sql.pushers.all()) {
      if (pid !== process.pid && (!isProcessAlive(pid) || now - createdAt > staleAfterMs)) sql.discard.run(pushId);
    }
  });
}

export class SqliteAtomicPush implements AtomicPush {
  private readonly pushId = randomUUID();
  private held: string[] = [];
  private heldBytes = 0;
  private staged = false;

  /**
   * @param insert puts one message in the queue, visible at `now`.
   */
  constructor(
    private readonly queue: string,
    private readonly sql: SqlitePushStatements,
    private readonly writes: SqliteWriteBatch,
    private readonly insert: (body: string, now: number) => void,
  ) {}

  async add(bodies: readonly string[]): Promise<void> {
    for (const body of bodies) {
      this.held.push(body);
      this.heldBytes += body.length;
    }
    if (this.heldBytes >= holdBytes) await this.stageHeld();
  }

  private async stageHeld(): Promise<void> {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    this.staged = true;
    await this.writes.run(() => {
      const now = Date.now();
      for (let start = 0; start < held.length; start += stageRowBodies) {
        this.sql.stage.run(this.pushId, JSON.stringify(held.slice(start, start + stageRowBodies)), process.pid, now);
      }
    });
  }

  async commit(): Promise<void> {
    const held = this.held;
    await this.writes.run(() => {
      const now = Date.now();
      if (this.staged) {
        this.sql.move.run(this.queue, now, now, this.pushId);
        this.sql.discard.run(this.pushId);
      }
      for (const body of held) this.insert(body, now);
    });
    this.held = [];
    this.staged = false;
  }

  async abort(): Promise<void> {
    this.held = [];
    this.heldBytes = 0;
    if (!this.staged) return;
    await this.writes.run(() => this.sql.discard.run(this.pushId));
    this.staged = false;
  }
}
