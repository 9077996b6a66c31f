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

test('a body with U+FFFD in it is leased and peeked as stored; one that is not UTF-8, as TEXT or as a BLOB, says so', async () => {
  const file = path.join(dir, 'utf8', 'jobq.db');
  const backend = openSqliteBackend(file);
  try {
    const queue = backend.queue('utf8');
    await queue.push(['{"a": "\uFFFD"}']);
    // As another program may store them: bytes that are not UTF-8, as TEXT and as a BLOB.
    const writer = new Database(file);
    const insert = writer.prepare("INSERT INTO messages (queue, body, visible_at, created_at) VALUES ('utf8', CAST(? AS TEXT), 0, 0)");
    insert.run(Buffer.from([0x7b, 0xff, 0x7d]));
    writer.prepare("INSERT INTO messages (queue, body, visible_at, created_at) VALUES ('utf8', ?, 0, 0)").run(Buffer.from([0x7b, 0xfe, 0x7d]));
    writer.close();
    // Planted visible since 1970: they come first.
    const expected = [
      { body: '{\uFFFD}', bodyError: 'message body is not valid UTF-8' },
      { body: '{\uFFFD}', bodyError: 'message body is not valid UTF-8' },
      { body: '{"a": "\uFFFD"}', bodyError: undefined },
    ];
    const shape = (messages: ReadonlyArray<{ body: string; bodyError?: string }>) =>
      messages.map(({ body, bodyError }) => ({ body, bodyError }));
    assert.deepEqual(shape(await queue.peek(10)), expected);
    // A lease gives them in the order they were stored.
    const leased = await queue.lease(10, 60_000);
    assert.deepEqual(shape(leased), [expected[2], expected[0], expected[1]]);
    assert.deepEqual(leased.map((lease) => lease.deliveries), [1, 1, 1]);
    // Each lease's token settles its own message only.
    const [, second, third] = leased;
    assert.ok(second && third);
    await assert.rejects(queue.complete({ ...second, token: third.token }), /lease on message/);
    await queue.complete(second);
    assert.equal(await queue.size(), 2);
  } finally {
    await backend.close();
  }
});
