/**
 * The PostgreSQL server of the bench scripts: the tests' server
 * (JOBQ_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432), a
 * database of the script's own, dropped at the end; and the runners of
 * bench/pg/ as argv.
 */
import path from 'node:path';
import { testDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { repoRoot } from '../../test/helpers/paths.js';

export async function benchDatabase(): Promise<TestDatabase> {
  const db = await testDatabase();
  if (db.skip !== undefined) throw new Error(db.skip);
  return db;
}

/** `node dist/bench/pg/NAME ARGS`, as an argv. */
export function runner(name: string, ...args: string[]): [string, string[]] {
  return [process.execPath, [path.join(repoRoot, 'dist', 'bench', 'pg', name), ...args]];
}

/** The JSON line a runner printed last (its figures). */
export function lastJson<T>(output: string): T {
  const line = output.trim().split('\n').reverse().find((candidate) => candidate.startsWith('{'));
  if (line === undefined) throw new Error(`no JSON line in:\n${output.slice(-1000)}`);
  return JSON.parse(line) as T;
}
