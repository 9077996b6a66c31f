/**
 * The floor for a local enqueue: every line of a file inserted as a message
 * row into a new SQLite file (WAL, as jobq's), in one transaction, with no
 * task encoding.
 *
 *   node dist/bench/baselines/sqlite-insert.js INPUT DBFILE
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';

const [input, file] = process.argv.slice(2);
if (!input || !file) throw new Error('usage: sqlite-insert.js INPUT DBFILE');
const bodies = readFileSync(input, 'utf8').split('\n').filter((line) => line !== '');
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, body TEXT NOT NULL, visible_at INTEGER NOT NULL)');
const insert = db.prepare('INSERT INTO messages (queue, body, visible_at) VALUES (?, ?, ?)');
const now = Date.now();
db.transaction(() => {
  for (const body of bodies) insert.run('bench', body, now);
}).immediate();
db.close();
