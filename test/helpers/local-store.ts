/**
 * Direct access to a local queue's SQLite file, for tests that plant messages
 * the CLI would never write, or check that a command left every row alone.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The database file of the local backend in `home` (JOBQ_HOME). */
export function localDbFile(home: string): string {
  return path.join(home, 'jobq.db');
}

/** Every message row of every queue, in order, as text: equal snapshots mean nothing changed. */
export function snapshotMessages(home: string): string {
  const file = localDbFile(home);
  if (!existsSync(file)) return 'no database';
  const db = new Database(file, { readonly: true });
  try {
    return JSON.stringify(
      db.prepare('SELECT id, queue, hex(body) AS body, visible_at, token, deliveries FROM messages ORDER BY id').all(),
    );
  } finally {
    db.close();
  }
}

/** Inserts message bodies as they are (text, or bytes as a BLOB) into a queue, visible at once. */
export function insertRawMessages(home: string, queue: string, bodies: ReadonlyArray<string | Buffer>): void {
  const db = new Database(localDbFile(home));
  try {
    const insert = db.prepare('INSERT INTO messages (queue, body, visible_at, created_at) VALUES (?, ?, ?, ?)');
    const now = Date.now();
    db.transaction(() => bodies.forEach((body) => insert.run(queue, body, now, now)))();
  } finally {
    db.close();
  }
}

/** A file's bytes as a digest (for files that must not be touched, such as a corrupt database). */
export function fileDigest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The message bodies of one local queue, in queue order. */
export function queueBodies(home: string, queue: string): string[] {
  const db = new Database(localDbFile(home), { readonly: true });
  try {
    return db
      .prepare<[string], { body: string }>('SELECT body FROM messages WHERE queue = ? ORDER BY visible_at, id')
      .all(queue)
      .map((row) => row.body);
  } finally {
    db.close();
  }
}
