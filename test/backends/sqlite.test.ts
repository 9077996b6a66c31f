import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteBackend } from '../../src/backends/sqlite.js';
import { backendContract } from './contract.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'jobq-sqlite-'));
after(() => rm(dir, { recursive: true, force: true }));

backendContract('sqlite', async () => {
  const backend = openSqliteBackend(path.join(dir, 'contract', 'jobq.db'));
  return { backend, cleanup: () => backend.close() };
});

test('the database file is created owner-only, with its directory', async () => {
  const file = path.join(dir, 'nested', 'deeper', 'jobq.db');
  const backend = openSqliteBackend(file);
  try {
    assert.ok((await stat(path.dirname(file))).isDirectory());
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    await backend.close();
  }
});

test('settlements wait to share a commit, and every other write commits them at the end of its turn', async () => {
  const file = path.join(dir, 'held', 'jobq.db');
  const backend = openSqliteBackend(file);
  const observer = new Database(file, { readonly: true });
  const committed = (): number => observer.prepare<[], { n: number }>("SELECT count(*) AS n FROM messages WHERE queue = 'held'").get()?.n ?? -1;
  try {
    const queue = backend.queue('held');
    await queue.push(['a', 'b', 'c', 'd']);
    const [first, second, third] = await queue.lease(3, 60_000);
    assert.ok(first && second && third);

    // A settlement alone resolves once its commit is done (2 ms later at most, unless more come).
    await queue.complete(first);
    assert.equal(committed(), 3);

    // A settlement waiting for company is committed with a lease queued in the same turn, when that turn ends.
    const completed = queue.complete(second);
    const leased = queue.lease(1, 60_000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(committed(), 2);
    assert.equal((await leased).length, 1);
    await completed;

    // A release waits as a completion does, and is committed all the same.
    await queue.release(third);
    assert.equal(observer.prepare<[], { n: number }>("SELECT count(*) AS n FROM messages WHERE queue = 'held' AND token IS NULL").get()?.n, 1);
  } finally {
    observer.close();
    await backend.close();
  }
});
