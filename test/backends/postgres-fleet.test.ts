/**
 * The PostgreSQL backend's fleet records and all-or-nothing pushes on the
 * machine's server (a database of this file's own): the fleet contract
 * unchanged, then what only this backend does: attempts riding in the
 * settles' statement, the upgrade of a schema made by the first version,
 * `scan`, and pushes held in memory or staged in a session of their own.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { AtomicPush, QueueStore } from '../../src/backends/backend.js';
import { SCHEMA_VERSION } from '../../src/backends/postgres/migrations.js';
import { PostgresWriteBatch } from '../../src/backends/postgres/write-batch.js';
import { hasCode } from '../../src/errors.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { openTestBackend, stagingTables, testDatabase, withTestBackend, type TestBackend } from '../helpers/postgres.js';
import { stillPending, waitFor } from '../helpers/wait.js';
import { attempt, fleetContract } from './fleet-contract.js';

const db = await testDatabase();
after(() => db.drop());

/** A backend on this file's database, with extra URL parameters (`&schema=…`). */
const backend = (parameters = ''): TestBackend => openTestBackend(db, 'jobq-fleet-test', parameters);
/** Runs `fn` with a backend that is closed after it, whatever happens. */
const using = <T>(parameters: string, fn: (subject: TestBackend) => Promise<T>): Promise<T> => withTestBackend(() => backend(parameters), fn);




/** Bodies of about 1 KiB: `count` of them from `first`. */
function bodies(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `m${first + i}`.padEnd(1024, '.'));
}

/** Adds 12 MiB of bodies (more than a push holds in memory) in chunks of 1,000: 12,000 messages, m0 to m11999. */
async function addLarge(push: AtomicPush): Promise<string[]> {
  const added: string[] = [];
  for (let chunk = 0; chunk < 12; chunk += 1) {
    const part = bodies(chunk * 1000, 1000);
    await push.add(part);
    added.push(...part);
  }
  return added;
}

/** Every body of the queue, leased or not, in the order pushed (a lease takes those visible alike in this order). */
async function queued(queue: string): Promise<string[]> {
  const rows = await db.query<{ body: string }>('SELECT body FROM jobq.messages WHERE queue = $1 ORDER BY id', [queue]);
  return rows.map((row) => row.body);
}

/** A store that has leased once and waited once, so that its first (possibly early) wake-up is behind it. */
async function listeningQueue(store: QueueStore): Promise<QueueStore> {
  await store.create();
  await store.lease(1, 60_000);
  await store.waitForPush?.(5_000);
  await store.lease(1, 60_000);
  return store;
}

describe('PostgreSQL fleet records and atomic pushes', { skip: db.skip }, () => {
  fleetContract('postgres', async () => {
    const subject = backend();
    return { backend: subject, cleanup: () => subject.close() };
  });

  describe('postgres history', () => {
    it('the write batch puts the attempts and the settles of one turn in one statement', async () => {
      await using('', async (subject) => {
        const queue = subject.queue('riding');
        await queue.push(Array.from({ length: 100 }, (_, i) => `r${i}`));
        const leases = await queue.lease(100, 60_000);
        assert.equal(leases.length, 100);
        const pool = new pg.Pool({ connectionString: db.url, max: 2 });
        try {
          let statements = 0;
          const batch = new PostgresWriteBatch('jobq', async (name, text, values) => {
            statements += 1;
            return (await pool.query<{ kind: string; id: string }>({ name, text, values })).rows;
          });
          const settled = leases.map((lease, i) =>
            Promise.all([
              batch.submit({ kind: 'complete', id: lease.messageId, token: lease.token }),
              batch.submit({ kind: 'attempts', queue: 'riding', attempts: [attempt(`t${i}`, 'succeeded', 0)] }),
            ]),
          );
          assert.deepEqual(new Set((await Promise.all(settled)).flat()), new Set([true]));
          assert.equal(statements, 1, 'one statement for 100 completes and their 100 attempts');
        } finally {
          await pool.end();
        }
        assert.equal(await queue.size(), 0);
        const history = subject.history('riding');
        assert.equal((await history.query({ limit: 1000 })).length, 100);
        assert.equal((await history.succeeded()).size, 100);
      });
    });

    it('through the queue layer: a succeeded task is in the history after the flush, with its times to the millisecond', async () => {
      await using('', async (subject) => {
        const queue = new JobQueue(subject, 'layered');
        await queue.create();
        const record = attempt('exact', 'succeeded', 0, { startedAt: 1_764_000_000_123, endedAt: 1_764_000_001_456, durationMs: 1333.25 });
        await subject.queue('layered').push(['{"version": 1, "reply_requested": false, "kwargs": "{}", "num_retries": 0, "id": "exact"}']);
        const [leased] = await queue.lease(1, 60_000);
        assert.ok(leased?.task);
        await queue.succeed(leased.lease, leased.task, null, record);
        await queue.fleet.flushHistory();
        assert.deepEqual(await queue.fleet.attempts({ limit: 10 }), [record]);
        const [row] = await db.query<{ ended: string }>("SELECT to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS ended FROM jobq.attempts WHERE queue = 'layered'");
        assert.equal(row?.ended, new Date(record.endedAt).toISOString().replace('T', ' ').replace('Z', ''), 'a timestamptz people can query');
      });
    });

    it('text PostgreSQL cannot hold (NUL, half a surrogate pair) is kept with U+FFFD in attempts and worker rows', async () => {
      await using('', async (subject) => {
        const queue = new JobQueue(subject, 'nul');
        await queue.create();
        const failures: unknown[] = [];
        queue.fleet.onError((err) => failures.push(err));
        // A command or output cut in the middle of an emoji keeps half of its surrogate pair.
        queue.fleet.record(attempt('n', 'dead-lettered', 0, { command: 'printf "a\0b" \ud83d', output: '\ude00x\0y 😀' }));
        await queue.fleet.flushHistory();
        assert.deepEqual(failures, []);
        const [stored] = await queue.fleet.attempts({ limit: 1 });
        assert.equal(stored?.command, 'printf "a\uFFFDb" \uFFFD');
        assert.equal(stored?.output, '\uFFFDx\uFFFDy 😀');
        const now = Date.now();
        await queue.fleet.putWorker({
          workerId: 'w\0', host: 'h', pid: 1, slots: 1, phase: 'running', startedAt: now, lastSeen: now, intervalMs: 1000,
          cpuPercent: 0, rssBytes: 1, version: '0', environment: null, running: [{ taskId: 't', command: 'a\0b\ud83d', since: now }], succeeded: 0, failed: 0,
        });
        const [row] = await queue.fleet.workers();
        assert.equal(row?.running[0]?.command, 'a\uFFFDb\uFFFD');
      });
    });

    it('the succeeded ids are read whole, page after page', async () => {
      await using('', async (subject) => {
        const queue = new JobQueue(subject, 'many-done');
        for (let i = 0; i < 10_050; i += 1) queue.fleet.record(attempt(`d${i}`, i % 2 === 0 ? 'succeeded' : 'retried', 0));
        for (let i = 0; i < 10_050; i += 1) queue.fleet.record(attempt(`e${i}`, 'succeeded', 0));
        await queue.fleet.flushHistory();
        const done = await queue.fleet.succeededIds();
        assert.equal(done.size, 5025 + 10_050);
        assert.ok(done.has('d10048') && done.has('e10049') && !done.has('d1'));
      });
    });

    it('pruning by count in a table shared with another queue leaves the other queue alone', async () => {
      await using('', async (subject) => {
        const busy = new JobQueue(subject, 'prune-busy');
        const quiet = new JobQueue(subject, 'prune-quiet');
        await busy.create();
        // Written by turns, so that the two queues' ids interleave.
        for (let i = 0; i < 10; i += 1) {
          busy.fleet.record(attempt(`b${i}`, 'succeeded', (20 - i) * 1000));
          quiet.fleet.record(attempt(`q${i}`, 'succeeded', (20 - i) * 1000));
          await Promise.all([busy.fleet.flushHistory(), quiet.fleet.flushHistory()]);
        }
        // As the pruner does: batches until one deletes less than a batch.
        const policy = { maxAgeMs: 3_600_000, maxAttempts: 3 };
        const batches: number[] = [];
        do batches.push(await busy.fleet.pruneHistory(policy, 4));
        while (batches.at(-1) === 4);
        assert.deepEqual(batches, [4, 3]);
        assert.deepEqual((await busy.fleet.attempts({ limit: 100 })).map((a) => a.taskId), ['b7', 'b8', 'b9']);
        assert.equal((await quiet.fleet.attempts({ limit: 100 })).length, 10);
        assert.equal(await quiet.fleet.pruneHistory({ maxAgeMs: 3_600_000, maxAttempts: 10 }, 4), 0);
      });
    });
  });

  describe('postgres schema upgrade', () => {
    it('a schema of the first version is upgraded with its messages and results kept', async () => {
      await using('&schema=upgraded', async (subject) => {
        await subject.migrate();
      });
      // What the first version made: no fleet tables, version 1 only.
      await db.query('DROP TABLE upgraded.attempts, upgraded.workers; DELETE FROM upgraded.migrations WHERE version > 1');
      await db.query("INSERT INTO upgraded.messages (queue, body) VALUES ('old', 'from version 1')");
      await using('&schema=upgraded', async (subject) => {
        assert.deepEqual(await subject.migrate(), { from: 1, to: SCHEMA_VERSION });
        assert.equal((await subject.queue('old').peek(1))[0]?.body, 'from version 1');
        const queue = new JobQueue(subject, 'old');
        queue.fleet.record(attempt('after', 'succeeded', 0));
        await queue.fleet.flushHistory();
        assert.equal((await queue.fleet.attempts({ limit: 10 })).length, 1);
      });
    });
  });

  describe('postgres scan', () => {
    it('visits every message of the queue, leased ones included, across pages, and no other queue', async () => {
      await using('', async (subject) => {
        const queue = subject.queue('scanned');
        const pushed = Array.from({ length: 4500 }, (_, i) => `s${i}`);
        await queue.push(pushed);
        await subject.queue('not-scanned').push(['elsewhere']);
        assert.equal((await queue.lease(100, 60_000)).length, 100);
        const seen: string[] = [];
        await queue.scan?.((body) => seen.push(body));
        assert.deepEqual(seen, pushed);
      });
    });
  });

  describe('postgres atomic push', () => {
    it('a small push is held in memory: invisible until its commit, then all of it in order, notified at the commit', async () => {
      await using('', async (subject) => {
        const store = await listeningQueue(subject.queue('small'));
        const push = await subject.queue('small').beginPush?.();
        assert.ok(push);
        const wait = store.waitForPush?.(60_000);
        await push.add(['a', 'b']);
        await push.add(['c']);
        assert.equal(await stagingTables(db), 0, 'nothing staged');
        assert.equal(await store.size(), 0);
        assert.ok(await stillPending(wait ?? Promise.resolve(), 300), 'no notification before the commit');
        await push.commit();
        await wait;
        assert.deepEqual(await queued('small'), ['a', 'b', 'c']);
      });
    });

    it('a large push stages in a session of its own: workers lease and push meanwhile; the commit moves it all, in order, and notifies', async () => {
      await using('', async (subject) => {
        const worker = await listeningQueue(subject.queue('large'));
        await worker.push(['older']);
        await worker.waitForPush?.(30_000);
        const push = await subject.queue('large').beginPush?.();
        assert.ok(push);
        const added = await addLarge(push);
        assert.equal(await stagingTables(db), 1, 'the push staged');
        // The queue goes on as if nothing were happening.
        const [lease] = await worker.lease(1, 60_000);
        assert.equal(lease?.body, 'older');
        assert.equal(await worker.size(), 1);
        await worker.push(['during']);
        await worker.waitForPush?.(30_000);
        const [during] = await worker.lease(10, 60_000);
        assert.equal(during?.body, 'during');
        const wait = worker.waitForPush?.(60_000);
        assert.ok(await stillPending(wait ?? Promise.resolve(), 300), 'no notification before the commit');
        await push.add(bodies(12_000, 5));
        await push.commit();
        await wait;
        assert.deepEqual(await queued('large'), ['older', 'during', ...added, ...bodies(12_000, 5)]);
        await waitFor(async () => (await stagingTables(db)) === 0, { message: () => 'the staging table outlived the push' });
      });
    });

    it('an aborted large push leaves nothing, and ends its session', async () => {
      await using('', async (subject) => {
        const push = await subject.queue('aborted').beginPush?.();
        assert.ok(push);
        await addLarge(push);
        assert.equal(await stagingTables(db), 1);
        await push.abort();
        await push.abort();
        await waitFor(async () => (await stagingTables(db)) === 0, { message: () => 'the staging table outlived the push' });
        assert.equal(await subject.queue('aborted').size(), 0);
      });
    });

    it('a large push whose session is cut before its commit fails, and leaves nothing', async () => {
      const name = 'jobq-test-cut-push';
      await using(`&application_name=${name}`, async (subject) => {
        const push = await subject.queue('cut').beginPush?.();
        assert.ok(push);
        await addLarge(push);
        await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, name]);
        await waitFor(async () => (await stagingTables(db)) === 0, { message: () => 'the server kept the staging table of a dead session' });
        await assert.rejects(push.commit(), (err: unknown) => {
          assert.ok(hasCode(err, 'BACKEND'), String(err));
          assert.match((err as Error).message, /PostgreSQL queue cut .*failed/);
          return true;
        });
        await push.abort();
        assert.equal(await subject.queue('cut').size(), 0);
      });
    });

    it('a message PostgreSQL refuses in a staged chunk fails the push, with nothing enqueued', async () => {
      await using('', async (subject) => {
        const push = await subject.queue('refused').beginPush?.();
        assert.ok(push);
        await addLarge(push);
        const failed = (async () => {
          await push.add(['bad\u0000body', ...bodies(20_000, 2000)]);
          await push.add(bodies(30_000, 2000));
          await push.commit();
        })();
        await assert.rejects(failed, (err: unknown) => hasCode(err, 'BACKEND'));
        await push.abort();
        assert.equal(await subject.queue('refused').size(), 0);
        await waitFor(async () => (await stagingTables(db)) === 0);
      });
    });
  });
});
