/**
 * A PostgreSQL database of its own for a test file, on the server of
 * JOBQ_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres,
 * the server every machine of this project runs), dropped in the file's
 * `after` hook. Databases of test processes that died without dropping theirs
 * (named jobq_t_PID_…) are dropped when the next one is made.
 *
 * When no server answers, `skip` says why in one line and the tests skip,
 * except under CI=true, where the file fails: CI must run them.
 */
import pg from 'pg';
import { openPostgresBackend } from '../../src/backends/postgres/backend.js';
import { resolveConnection } from '../../src/backends/postgres/connection.js';
import { isProcessAlive } from '../../src/os/process-alive.js';

export interface TestDatabase {
  /** Why the PostgreSQL tests of this file skip (no server), else undefined. */
  readonly skip: string | undefined;
  /** postgres://…/jobq_t_… of this file's database. */
  readonly url: string;
  readonly name: string;
  /** The server's URL with another database (`postgres` for server-wide statements). */
  urlFor(database: string): string;
  /** Runs one statement in this file's database on a connection of its own. */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<Row[]>;
  /**
   * The database's count of committed transactions once every session has
   * reported its own (sessions report within a second or so): when two looks
   * 1.5 s apart differ only by what a look costs itself (a connection and a
   * query: 2). Each look commits too.
   */
  settledCommits(): Promise<number>;
  /** Drops the database, ending whatever is connected to it (idempotent). */
  drop(): Promise<void>;
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME_PREFIX = 'jobq_t_';

function serverUrl(): URL {
  return new URL(process.env['JOBQ_TEST_DATABASE_URL'] || DEFAULT_URL);
}

function withDatabase(url: URL, database: string): string {
  const copy = new URL(url.href);
  copy.pathname = `/${database}`;
  return copy.href;
}

/** The server's address without user or password, for the skip line. */
function address(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

async function run<Row extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}


/** Drops the test databases whose process is gone. */
async function dropAbandoned(admin: string): Promise<void> {
  const rows = await run<{ datname: string }>(admin, 'SELECT datname FROM pg_database WHERE datname LIKE $1', [`${NAME_PREFIX}%`]);
  for (const { datname } of rows) {
    const pid = Number(/^jobq_t_(\d+)_/.exec(datname)?.[1]);
    if (Number.isInteger(pid) && !isProcessAlive(pid)) await run(admin, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
}

/** A fresh database for this test file, or `skip` when there is no server (a failure under CI=true). */
export async function testDatabase(): Promise<TestDatabase> {
  const server = serverUrl();
  const admin = withDatabase(server, server.pathname.slice(1) || 'postgres');
  const name = `${NAME_PREFIX}${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const url = withDatabase(server, name);
  let skip: string | undefined;
  try {
    await dropAbandoned(admin);
    await run(admin, `CREATE DATABASE "${name}"`);
  } catch (err) {
    const why = `no PostgreSQL server at ${address(server)} (${(err as Error).message || (err as NodeJS.ErrnoException).code}); set JOBQ_TEST_DATABASE_URL`;
    if (process.env['CI'] === 'true') throw new Error(`${why} (CI=true: the PostgreSQL tests must run)`, { cause: err });
    skip = why;
  }
  let dropped: Promise<void> | undefined;
  const commits = async (): Promise<number> => {
    const [row] = await run<{ n: string }>(url, 'SELECT pg_stat_force_next_flush(), xact_commit AS n FROM pg_stat_database WHERE datname = $1', [name]);
    return Number(row?.n);
  };
  return {
    skip,
    url,
    name,
    urlFor: (database) => withDatabase(server, database),
    query: (text, values) => run(url, text, values),
    async settledCommits() {
      let last = await commits();
      for (let look = 0; look < 20; look += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const now = await commits();
        if (now - last <= 2) return now;
        last = now;
      }
      return last;
    },
    drop() {
      if (skip !== undefined) return Promise.resolve();
      dropped ??= run(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).then(() => undefined);
      return dropped;
    },
  };
}

export type TestBackend = ReturnType<typeof openPostgresBackend>;

/** jobq's backend on `db`, its connections named `applicationName`, with extra URL parameters (`&schema=…`). */
export function openTestBackend(db: TestDatabase, applicationName: string, parameters = ''): TestBackend {
  return openPostgresBackend(resolveConnection(`${db.url}?application_name=${applicationName}${parameters}`, {}, 'the test'));
}

/** Runs `fn` with the backend `open` makes, closed after it whatever happens. */
export async function withTestBackend<T>(open: () => TestBackend, fn: (subject: TestBackend) => Promise<T>): Promise<T> {
  const subject = open();
  try {
    return await fn(subject);
  } finally {
    await subject.close();
  }
}

/** The temporary tables of large pushes in `db` now, in any session (one per push that stages). */
export async function stagingTables(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'jobq_push' AND relpersistence = 't'");
  return row?.n ?? 0;
}
