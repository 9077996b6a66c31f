/**
 * The floor for a PostgreSQL enqueue: N message bodies (as jobq encodes a
 * no-op task) inserted into a bare table of the same shape as jobq's, 100 a
 * statement with unnest, 10 statements at once on 10 connections, each
 * commit waiting for the disk (as jobq's pushes do); no notification.
 *
 *   node dist/bench/pg/raw-insert.js URL N
 */
import pg from 'pg';
import { createTask, serializeTask } from '../../src/task/task.js';
import { inBatches } from './runner.js';

const [url, count] = process.argv.slice(2);
if (!url || !count) throw new Error('usage: raw-insert.js URL N');
const total = Number(count);
const bodies = Array.from({ length: total }, (_, i) => serializeTask(createTask({ i })));
const pool = new pg.Pool({ connectionString: url, max: 10 });
await pool.query('CREATE TABLE IF NOT EXISTS raw_floor (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, queue text NOT NULL, body text NOT NULL, visible_at timestamptz NOT NULL DEFAULT now())');
await pool.query('CREATE INDEX IF NOT EXISTS raw_floor_visibility ON raw_floor (queue, visible_at, id)');
const started = performance.now();
await inBatches(total, (from, to) =>
  pool.query({
    name: 'floor',
    text: 'INSERT INTO raw_floor (queue, body) SELECT * FROM unnest($1::text[], $2::text[])',
    values: [Array.from({ length: to - from }, () => 'bench'), bodies.slice(from, to)],
  }),
);
console.log(JSON.stringify({ ms: performance.now() - started }));
await pool.query('DROP TABLE raw_floor');
await pool.end();
