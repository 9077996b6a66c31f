/**
 * The PostgreSQL backend on the machine's server (a database of this file's
 * own): the contract suite unchanged, then what only this backend does.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { inspect } from 'node:util';
import type { QueueStore } from '../../src/backends/backend.js';
import { openPostgresBackend } from '../../src/backends/postgres/backend.js';
import { resolveConnection } from '../../src/backends/postgres/connection.js';
import { SCHEMA_VERSION } from '../../src/backends/postgres/migrations.js';
import { statement } from '../../src/backends/postgres/write-batch.js';
import { parseSpec } from '../../src/backends/spec.js';
import { hasCode, isPermanentBackendError } from '../../src/errors.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { createTask, serializeTask } from '../../src/task/task.js';
import { openTestBackend, testDatabase, withTestBackend, type TestBackend } from '../helpers/postgres.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { stillPending, waitFor } from '../helpers/wait.js';
import { backendContract } from './contract.js';
import { attempt } from './fleet-contract.js';

const db = await testDatabase();
after(() => db.drop());

/** A backend on this file's database, with extra URL parameters (`&schema=…`). */
const backend = (parameters = ''): TestBackend => openTestBackend(db, 'jobq-test', parameters);
/** Runs `fn` with a backend that is closed after it, whatever happens. */
const using = <T>(parameters: string, fn: (subject: TestBackend) => Promise<T>): Promise<T> => withTestBackend(() => backend(parameters), fn);


/** Connections of this file's database whose application_name is `name`. */
async function connections(name: string): Promise<Array<{ pid: number; query: string }>> {
  return db.query('SELECT pid, query FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, name]);
}

/** How long `promise` takes to settle, in ms. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const started = performance.now();
  await promise;
  return performance.now() - started;
}


/** The store's waitForPush (PostgreSQL stores have one). */
function waitForPush(store: QueueStore, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const wait = store.waitForPush?.(timeoutMs, signal);
  assert.ok(wait, 'the store has waitForPush');
  return wait;
}

/** A store that has leased once and waited once, so that its first (possibly early) wake-up is behind it. */
async function listeningQueue(store: QueueStore): Promise<QueueStore> {
  await store.create();
  assert.deepEqual(await store.lease(1, 60_000), []);
  await waitForPush(store, 5_000);
  assert.deepEqual(await store.lease(1, 60_000), []);
  return store;
}

function rejectsWith(pattern: RegExp, options: { permanent: boolean; secret?: string }): (err: unknown) => boolean {
  return (err) => {
    assert.ok(hasCode(err, 'BACKEND'), `expected BACKEND, got ${String(err)}`);
    const message = (err as Error).message;
    assert.doesNotMatch(message, /\n/);
    assert.match(message, pattern);
    assert.equal(isPermanentBackendError(err), options.permanent, message);
    if (options.secret !== undefined) assert.ok(!message.includes(options.secret), `the password is in: ${message}`);
    return true;
  };
}

describe('PostgreSQL backend', { skip: db.skip }, () => {
  backendContract('postgres', async () => {
    const subject = backend();
    return { backend: subject, cleanup: () => subject.close() };
  });

  describe('postgres backend', () => {
    it('writes of one turn share a statement, and a bad one fails alone', async () => {
      const subject = backend();
      try {
        const queue = subject.queue('mixed');
        // PostgreSQL text cannot hold NUL: that push is refused, the others in its turn are not.
        const results = await Promise.allSettled([queue.push(['a']), queue.push(['bad\u0000body']), queue.push(['b', 'c'])]);
        assert.deepEqual(
          results.map((result) => result.status),
          ['fulfilled', 'rejected', 'fulfilled'],
        );
        const failure = (results[1] as PromiseRejectedResult).reason as Error;
        assert.ok(hasCode(failure, 'BACKEND'), String(failure));
        assert.match(failure.message, /PostgreSQL queue mixed .*: push failed: .*SQLSTATE 22/);
        assert.deepEqual((await queue.peek(10)).map((message) => message.body), ['a', 'b', 'c']);
      } finally {
        await subject.close();
      }
    });

    it('peek shows messages pushed together in the order pushed, also past the ninth (ids are compared as numbers)', async () => {
      await using('', async (subject) => {
        const queue = subject.queue('ordered');
        const bodies = Array.from({ length: 25 }, (_, i) => `o${i}`);
        await queue.push(bodies);
        assert.deepEqual((await queue.peek(25)).map((message) => message.body), bodies);
        assert.deepEqual((await queue.lease(25, 60_000)).map((lease) => lease.body), bodies);
      });
    });

    it('a statement with pushes commits durably; settles commit asynchronously', async () => {
      const durable = "set_config('synchronous_commit', 'on', true)";
      assert.ok(statement([{ kind: 'push', queue: 'q', bodies: ['x'] }], 'jobq').text.includes(durable));
      assert.ok(statement([{ kind: 'push', queue: 'q', bodies: ['x'] }, { kind: 'complete', id: '1', token: 't' }], 'jobq').text.includes(durable));
      for (const write of [
        { kind: 'complete', id: '1', token: 't' },
        { kind: 'extend', id: '1', token: 't', visibilityMs: 1000 },
        { kind: 'release', id: '1', token: 't', body: null },
        { kind: 'result', queue: 'q', taskId: 'x', body: '{}' },
      ] as const) {
        assert.ok(!statement([write], 'jobq').text.includes(durable), write.kind);
      }
      await using('', async (subject) => {
        await subject.queue('durable').push(['x']);
        const [row] = await db.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'synchronous_commit'");
        assert.equal(row?.setting, 'on', 'the server default is untouched');
      });
    });

    it('many settles of one turn, with their attempts for the history, take few transactions', async () => {
      await using('', async (subject) => {
        const queue = new JobQueue(subject, 'batched');
        await queue.create();
        await subject.queue('batched').push(Array.from({ length: 200 }, (_, n) => serializeTask(createTask({ n }))));
        const leased = await queue.lease(200, 60_000);
        assert.equal(leased.length, 200);
        const before = await db.settledCommits();
        await Promise.all(
          leased.map(({ lease, task }, n) => {
            assert.ok(task);
            return queue.succeed(lease, task, null, attempt(task.id, 'succeeded', 0, { command: `task ${n}` }));
          }),
        );
        await queue.fleet.flushHistory();
        const spent = (await db.settledCommits()) - before;
        // Each look at the counter commits once itself; 200 completes or attempts one by one would be 200 more each.
        assert.ok(spent < 20, `${spent} transactions for 200 completes and their attempts`);
        assert.equal(await queue.size(), 0);
        assert.equal((await queue.fleet.attempts({ limit: 1000 })).length, 200);
      });
    });
  });

  describe('waitForPush (LISTEN/NOTIFY)', () => {
    it('resolves soon after another process pushes to its queue, not for other queues', async () => {
      await using('', async (waiting) => {
        await using('', async (pushing) => {
          const store = await listeningQueue(waiting.queue('wakes'));
          const wait = waitForPush(store, 60_000);
          await pushing.queue('elsewhere').push(['not for it']);
          assert.ok(await stillPending(wait, 500), 'a push to another queue does not wake it');
          const started = performance.now();
          await pushing.queue('wakes').push(['for it']);
          await wait;
          assert.ok(performance.now() - started < 30_000);
          assert.equal((await store.lease(1, 60_000))[0]?.body, 'for it');
        });
      });
    });

    it('a release wakes it too', async () => {
      await using('', async (subject) => {
        const store = await listeningQueue(subject.queue('released'));
        await store.push(['x']);
        await waitForPush(store, 30_000); // the push's own notification
        const [lease] = await store.lease(1, 60_000);
        assert.ok(lease);
        // The lease marked the time: only what comes after it wakes the wait.
        const wait = waitForPush(store, 60_000);
        assert.ok(await stillPending(wait, 300));
        await subject.queue('released').release(lease);
        assert.ok((await timed(wait)) < 30_000);
      });
    });

    it('resolves at once for a push between an empty lease and the wait', async () => {
      await using('', async (waiting) => {
        await using('', async (pushing) => {
          const store = await listeningQueue(waiting.queue('between'));
          await pushing.queue('between').push(['in between']);
          // Wait until the notification has surely arrived, then wait: it must not sleep through it.
          await waitFor(async () => (await pushing.queue('between').size()) === 1);
          await new Promise((resolve) => setTimeout(resolve, 300));
          assert.ok((await timed(waitForPush(store, 60_000))) < 1_000);
        });
      });
    });

    it('resolves at the timeout and on abort, and never rejects', async () => {
      await using('', async (subject) => {
        const store = await listeningQueue(subject.queue('quiet'));
        const elapsed = await timed(waitForPush(store, 300));
        assert.ok(elapsed >= 250, `resolved after ${elapsed} ms`);
        const controller = new AbortController();
        const wait = waitForPush(store, 60_000, controller.signal);
        controller.abort();
        assert.ok((await timed(wait)) < 1_000);
        assert.ok((await timed(waitForPush(store, 60_000, AbortSignal.abort()))) < 100);
      });
    });

    it('one LISTEN connection serves every queue and waiter of a backend, and comes back after it is killed', async () => {
      const name = 'jobq-test-listen';
      await using(`&application_name=${name}`, async (subject) => {
        const stores = await Promise.all(['l-one', 'l-two', 'l-three'].map((queue) => listeningQueue(subject.queue(queue))));
        const waits = stores.flatMap((store) => Array.from({ length: 4 }, () => waitForPush(store, 60_000)));
        const listening = async () => (await connections(name)).filter((row) => /^LISTEN/.test(row.query));
        assert.equal((await listening()).length, 1);

        await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, name]);
        // Listening again wakes every waiter (pushes may have gone unheard meanwhile).
        await Promise.all(waits);
        await waitFor(async () => (await listening()).length === 1, { timeoutMs: 30_000 });
        const store = stores[1];
        assert.ok(store);
        await store.lease(1, 60_000);
        const wait = waitForPush(store, 60_000);
        await subject.queue('l-two').push(['after the kill']);
        assert.ok((await timed(wait)) < 30_000);
        assert.equal((await listening()).length, 1);
      });
    });
  });

  describe('postgres schema and migrations', () => {
    it('workers that start at once migrate a new schema exactly once', async () => {
      const subjects = Array.from({ length: 6 }, () => backend('&schema=raced'));
      try {
        const results = await Promise.all(subjects.map((subject) => subject.migrate()));
        assert.ok(results.every((result) => result.to === SCHEMA_VERSION));
        assert.equal(results.filter((result) => result.from === 0).length, 1, JSON.stringify(results));
        const rows = await db.query<{ version: number }>('SELECT version FROM raced.migrations ORDER BY version');
        assert.deepEqual(rows.map((row) => row.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      } finally {
        await Promise.all(subjects.map((subject) => subject.close()));
      }
    });

    it('the schema comes from ?schema=, else JOBQ_PG_SCHEMA, else jobq', async () => {
      assert.equal(resolveConnection(db.url, {}, 'test').schema, 'jobq');
      assert.equal(resolveConnection(db.url, { JOBQ_PG_SCHEMA: 'team_a' }, 'test').schema, 'team_a');
      assert.equal(resolveConnection(`${db.url}?schema=team_b`, { JOBQ_PG_SCHEMA: 'team_a' }, 'test').schema, 'team_b');
      assert.throws(() => resolveConnection(`${db.url}?schema=Bad-Name`, {}, 'test'), (err: unknown) => hasCode(err, 'USAGE'));
      await using('&schema=team_b', async (subject) => {
        await subject.queue('in-b').push(['x']);
      });
      const rows = await db.query<{ queue: string }>('SELECT queue FROM team_b.messages');
      assert.deepEqual(rows, [{ queue: 'in-b' }]);
    });

    it('a schema newer than this jobq is a permanent error that says so', async () => {
      await using('&schema=future', async (subject) => {
        await subject.migrate();
      });
      await db.query('INSERT INTO future.migrations (version) VALUES (99)');
      await using('&schema=future', async (subject) => {
        await assert.rejects(subject.queue('any').size(), rejectsWith(new RegExp(`schema future is at version 99, newer than this jobq knows \\(${SCHEMA_VERSION}\\): upgrade jobq`), { permanent: true }));
      });
    });
  });

  describe('postgres connections and secrets', () => {
    const secret = 'sEcReT-pa55word';

    it('an unreachable server is one line, not permanent, naming the queue and host, without the password', async () => {
      const connection = resolveConnection(`postgres://someone:${secret}@127.0.0.1:1/nowhere?connect_timeout=3`, {}, 'the test');
      const subject = openPostgresBackend(connection);
      try {
        await assert.rejects(
          subject.queue('lonely').push(['x']),
          rejectsWith(/PostgreSQL queue lonely \(postgres:\/\/someone@127\.0\.0\.1:1\/nowhere\?schema=jobq\): push failed: .*ECONNREFUSED/, {
            permanent: false,
            secret,
          }),
        );
        await assert.rejects(subject.queue('lonely').lease(1, 1000), rejectsWith(/lease failed/, { permanent: false, secret }));
      } finally {
        await subject.close();
      }
    });

    it('a database that does not exist is a permanent error: waiting cannot mend it', async () => {
      const subject = openPostgresBackend(resolveConnection(db.urlFor(`${db.name}_missing`), {}, 'the test'));
      try {
        await assert.rejects(subject.queue('nowhere').size(), rejectsWith(/does not exist \(SQLSTATE 3D000\)/, { permanent: true }));
      } finally {
        await subject.close();
      }
    });

    it('the password never shows in a description, a spec target, JSON or inspect', () => {
      const env = { JOBQ_DATABASE_URL: `postgres://someone:${secret}@db.example.org:6543/jobs` };
      const target = parseSpec('pg/secretive', { env });
      assert.equal(target.kind, 'postgres');
      const connection = target.kind === 'postgres' ? target.connection : undefined;
      assert.ok(connection);
      assert.equal(connection.password, secret, 'the backend still has it');
      for (const shown of [connection.description, String(connection), JSON.stringify(target), inspect(target, { depth: 10 }), inspect(connection, { showHidden: true })]) {
        assert.ok(!shown.includes(secret), shown);
      }
      assert.equal(openPostgresBackend(connection).description, 'postgres://someone@db.example.org:6543/jobs?schema=jobq');
    });

    it('sslmode=require against a server without TLS is one clear line; prefer falls back to plain', async () => {
      await using('&sslmode=require', async (subject) => {
        await assert.rejects(subject.queue('tls').size(), rejectsWith(/does not support SSL/, { permanent: false }));
      });
      await using('&sslmode=prefer', async (subject) => {
        assert.equal(await subject.queue('tls').size(), 0);
      });
      assert.throws(() => resolveConnection(`${db.url}?sslmode=sometimes`, {}, 'test'), (err: unknown) => hasCode(err, 'USAGE'));
    });

    it('a connection that stops answering is given up after the read timeout, and replaced', async () => {
      const server = new URL(db.url);
      const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
      const url = new URL(db.url);
      url.host = `${proxy.host}:${proxy.port}`;
      const subject = openPostgresBackend(resolveConnection(url.href, {}, 'the test'), { statementTimeoutMs: 500 });
      try {
        const queue = subject.queue('hung');
        await queue.push(['x']);
        proxy.stall();
        const started = performance.now();
        await assert.rejects(queue.size(), rejectsWith(/read the queue size failed: .*timeout/i, { permanent: false }));
        const waited = performance.now() - started;
        assert.ok(waited >= 4_000 && waited < 30_000, `gave up after ${waited} ms (read timeout: 0.5 s + 5 s)`);
        await proxy.forward();
        assert.equal(await queue.size(), 1);
      } finally {
        await subject.close();
        await proxy.close();
      }
    });

    it('connections killed on the server are replaced', async () => {
      const name = 'jobq-test-killed';
      await using(`&application_name=${name}`, async (subject) => {
        const queue = subject.queue('killed');
        await queue.push(['one', 'two']);
        assert.ok((await connections(name)).length > 0);
        await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, name]);
        // An operation may fail on a connection whose death the pool has not heard of yet; then they work again.
        let failures = 0;
        await waitFor(async () => {
          try {
            await queue.size();
            return true;
          } catch (err) {
            assert.ok(hasCode(err, 'BACKEND'), String(err));
            failures += 1;
            return false;
          }
        });
        assert.ok(failures <= 4, `${failures} failures`);
        const [lease] = await queue.lease(1, 60_000);
        assert.ok(lease);
        await queue.complete(lease);
        assert.equal(await queue.size(), 1);
      });
    });
  });
});
