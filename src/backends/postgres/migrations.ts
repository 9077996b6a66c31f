/**
 * jobq's tables in their own schema, created and upgraded by jobq itself.
 * `SCHEMA.migrations` records each version applied. Workers that start
 * together may all find the schema missing or old: the upgrade runs in one
 * transaction under an advisory lock on the schema's name, and re-reads the
 * version once it holds the lock, so exactly one of them applies each step.
 * A schema that is already current costs one query and takes no lock, so
 * workers whose role may not create tables run once `jobq migrate` has been
 * run by one that may.
 */
import type pg from 'pg';
import { BackendError } from '../../errors.js';
import { sqlState } from './errors.js';

/** One step: its SQL, given the quoted schema name. */
interface Migration {
  readonly version: number;
  readonly sql: (schema: string) => string;
}

const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: (S) => `
      CREATE TABLE ${S}.messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        queue text NOT NULL,
        body text NOT NULL,
        visible_at timestamptz NOT NULL DEFAULT now(),
        token uuid,
        deliveries integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now()
      ) WITH (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);
      CREATE INDEX messages_by_visibility ON ${S}.messages (queue, visible_at, id);
      CREATE TABLE ${S}.results (
        queue text NOT NULL,
        task_id text NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (queue, task_id)
      );`,
  },
  {
    // The fleet records (fleet.ts): one row per finished attempt, one per worker.
    // Attempts are keyed by (queue, id), which serves pruning by count and the
    // paged read of succeeded ids; ended_at serves the time windows.
    version: 2,
    sql: (S) => `
      CREATE TABLE ${S}.attempts (
        queue text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        task_id text NOT NULL,
        kind text NOT NULL,
        command text NOT NULL,
        worker_id text NOT NULL,
        host text NOT NULL,
        pid integer NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz NOT NULL,
        duration_ms double precision NOT NULL,
        outcome text NOT NULL,
        stop text,
        exit_code integer,
        signal text,
        error text,
        output text,
        PRIMARY KEY (queue, id)
      );
      CREATE INDEX attempts_by_end ON ${S}.attempts (queue, ended_at);
      CREATE TABLE ${S}.workers (
        queue text NOT NULL,
        worker_id text NOT NULL,
        last_seen timestamptz NOT NULL,
        body jsonb NOT NULL,
        PRIMARY KEY (queue, worker_id)
      );`,
  },
];

/** The schema version this jobq writes. */
export const SCHEMA_VERSION = migrations.length;

/** The first key of jobq's advisory locks ('jobq' in ASCII); the second is the schema name's hash. */
const LOCK_CLASS = 0x6a6f6271;

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
}

/** The schema's version: 0 when it, or its version table, does not exist. */
async function currentVersion(client: pg.ClientBase | pg.Pool, quoted: string): Promise<number> {
  try {
    const result = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${quoted}.migrations`);
    return result.rows[0]?.version ?? 0;
  } catch (err) {
    // 42P01: no such table; 3F000: no such schema.
    if (sqlState(err) === '42P01' || sqlState(err) === '3F000') return 0;
    throw err;
  }
}

function tooNew(schema: string, version: number): BackendError {
  return new BackendError(
    `the PostgreSQL schema ${schema} is at version ${version}, newer than this jobq knows (${SCHEMA_VERSION}): upgrade jobq`,
    { permanent: true },
  );
}

/** Brings the schema to SCHEMA_VERSION; safe when many processes run it at once. */
export async function migrate(pool: pg.Pool, schema: string): Promise<MigrationResult> {
  const quoted = `"${schema}"`;
  const seen = await currentVersion(pool, quoted);
  if (seen === SCHEMA_VERSION) return { from: seen, to: seen };
  if (seen > SCHEMA_VERSION) throw tooNew(schema, seen);
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    // The pool's sessions commit asynchronously (backend.ts); a schema change waits for the disk.
    await client.query('SET LOCAL synchronous_commit = on');
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const from = await currentVersion(client, quoted);
    if (from > SCHEMA_VERSION) throw tooNew(schema, from);
    for (const step of migrations) {
      if (step.version <= from) continue;
      await client.query(step.sql(quoted));
      await client.query(`INSERT INTO ${quoted}.migrations (version) VALUES ($1)`, [step.version]);
    }
    await client.query('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (err) {
    broken = err;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A connection whose transaction state is unknown is not given back to the pool.
    client.release(broken !== undefined && !(broken instanceof BackendError));
  }
}
