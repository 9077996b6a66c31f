/**
 * The fleet contract (src/backends/fleet.ts): the attempt history and the
 * live worker rows that a backend declaring `history` / `workerRows` keeps,
 * exercised through the queue layer (JobQueue.fleet) against a real store.
 * Each test has its own queue. The PostgreSQL backend runs it too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import type { AttemptOutcome, AttemptRecord, WorkerRow } from '../../src/backends/fleet.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { waitFor } from '../helpers/wait.js';

export interface FleetSubject {
  backend: Backend;
  cleanup(): Promise<void>;
}

const minute = 60_000;

/** An attempt of `taskId` that ended `agoMs` ago. */
export function attempt(taskId: string, outcome: AttemptOutcome, agoMs: number, extra: Partial<AttemptRecord> = {}): AttemptRecord {
  const endedAt = Date.now() - agoMs;
  return {
    taskId,
    kind: 'shell',
    command: `run ${taskId}`,
    workerId: 'w1',
    host: 'host-a',
    pid: 42,
    startedAt: endedAt - 1500,
    endedAt,
    durationMs: 1500,
    outcome,
    stop: outcome === 'released' ? 'SIGINT' : null,
    exitCode: outcome === 'succeeded' ? 0 : outcome === 'released' ? null : 3,
    signal: outcome === 'released' ? 'SIGTERM' : null,
    error: outcome === 'retried' || outcome === 'dead-lettered' ? 'exit code 3' : null,
    output: outcome === 'retried' || outcome === 'dead-lettered' ? 'line 1\nline 2' : null,
    ...extra,
  };
}

function workerRow(workerId: string, lastSeen: number): WorkerRow {
  return {
    workerId,
    host: 'host-a',
    pid: 7,
    slots: 2,
    phase: 'running',
    startedAt: lastSeen - minute,
    lastSeen,
    intervalMs: 5000,
    cpuPercent: 12.5,
    rssBytes: 50 * 2 ** 20,
    version: '0.1.0',
    environment: 'prod',
    running: [{ taskId: 't1', command: 'sleep 10', since: lastSeen - 1000 }],
    succeeded: 3,
    failed: 1,
  };
}

export function fleetContract(label: string, makeBackend: () => Promise<FleetSubject>): void {
  describe(`fleet contract: ${label}`, () => {
    let subject: FleetSubject | undefined;
    const prefix = `f${randomBytes(3).toString('hex')}`;
    let counter = 0;
    const queues: JobQueue[] = [];
    const newQueue = async (): Promise<JobQueue> => {
      if (!subject) throw new Error('no backend');
      counter += 1;
      const queue = new JobQueue(subject.backend, `${prefix}-q${counter}`);
      await queue.create();
      queues.push(queue);
      return queue;
    };
    /** Records attempts and waits until they can be read back (remote backends write in batches). */
    const recordAll = async (queue: JobQueue, attempts: readonly AttemptRecord[]): Promise<void> => {
      const failures: unknown[] = [];
      const stop = queue.fleet.onError((err) => failures.push(err));
      attempts.forEach((a) => queue.fleet.record(a));
      await queue.fleet.flushHistory();
      stop();
      assert.deepEqual(failures, []);
    };

    before(async () => {
      subject = await makeBackend();
    });
    after(async () => {
      await subject?.cleanup();
    });

    it('declares both capabilities', async () => {
      const queue = await newQueue();
      assert.equal(queue.fleet.keepsHistory, true);
      assert.equal(queue.fleet.keepsWorkerRows, true);
    });

    it('gives back recorded attempts whole, oldest first, the newest `limit` of them', async () => {
      const queue = await newQueue();
      const recorded = [
        attempt('a', 'succeeded', 30_000),
        attempt('b', 'dead-lettered', 20_000),
        attempt('c', 'released', 10_000),
      ];
      await recordAll(queue, recorded);
      assert.deepEqual(await queue.fleet.attempts({ limit: 10 }), recorded);
      assert.deepEqual(
        (await queue.fleet.attempts({ limit: 2 })).map((a) => a.taskId),
        ['b', 'c'],
      );
    });

    it('filters by time, task, worker and outcome', async () => {
      const queue = await newQueue();
      await recordAll(queue, [
        attempt('old', 'succeeded', 3 * 3_600_000),
        attempt('x', 'retried', 5 * minute, { workerId: 'w2' }),
        attempt('x', 'succeeded', 4 * minute),
        attempt('y', 'dead-lettered', minute),
      ]);
      const ids = async (filter: Parameters<JobQueue['fleet']['attempts']>[0]) =>
        (await queue.fleet.attempts(filter)).map((a) => `${a.taskId}:${a.outcome}`);
      assert.deepEqual(await ids({ limit: 10, since: Date.now() - 2 * 3_600_000 }), ['x:retried', 'x:succeeded', 'y:dead-lettered']);
      assert.deepEqual(await ids({ limit: 10, taskId: 'x' }), ['x:retried', 'x:succeeded']);
      assert.deepEqual(await ids({ limit: 10, workerId: 'w2' }), ['x:retried']);
      assert.deepEqual(await ids({ limit: 10, outcomes: ['retried', 'dead-lettered'] }), ['x:retried', 'y:dead-lettered']);
    });

    it('counts outcomes since each time, and knows the succeeded ids', async () => {
      const queue = await newQueue();
      await recordAll(queue, [
        attempt('a', 'succeeded', 30_000),
        attempt('b', 'succeeded', 3 * minute),
        attempt('c', 'retried', 3 * minute),
        attempt('c', 'dead-lettered', 10 * minute),
      ]);
      const [one, five, fifteen] = await queue.fleet.countSince([Date.now() - minute, Date.now() - 5 * minute, Date.now() - 15 * minute]);
      assert.equal(one?.succeeded, 1);
      assert.equal(five?.succeeded, 2);
      assert.equal(five?.retried, 1);
      assert.equal(five?.['dead-lettered'], 0);
      assert.equal(fifteen?.['dead-lettered'], 1);
      assert.deepEqual([...(await queue.fleet.succeededIds())].sort(), ['a', 'b']);
    });

    it('keeps every attempt when tasks of the same id succeed together (identical commands share an id)', async () => {
      const queue = await newQueue();
      const recorded = [attempt('same', 'succeeded', 3_000), attempt('same', 'succeeded', 2_000), attempt('same', 'succeeded', 1_000)];
      await recordAll(queue, recorded);
      assert.deepEqual(await queue.fleet.attempts({ limit: 10, taskId: 'same' }), recorded);
      assert.deepEqual([...(await queue.fleet.succeededIds())], ['same']);
    });

    it('prunes beyond the newest maxAttempts and older than maxAgeMs, at most a batch at a time', async () => {
      const queue = await newQueue();
      await recordAll(queue, [
        attempt('ancient', 'succeeded', 3 * 3_600_000),
        ...Array.from({ length: 6 }, (_, i) => attempt(`n${i}`, 'succeeded', (10 - i) * 1000)),
      ]);
      // By age first: the attempt from three hours ago goes, the recent ones stay.
      assert.equal(await queue.fleet.pruneHistory({ maxAgeMs: 3_600_000, maxAttempts: 100 }, 10), 1);
      assert.equal((await queue.fleet.attempts({ limit: 100 })).length, 6);
      // By count, in batches: 6 kept to 2 takes two batches of 2.
      const policy = { maxAgeMs: 3_600_000, maxAttempts: 2 };
      let deleted = 0;
      await waitFor(async () => {
        deleted += await queue.fleet.pruneHistory(policy, 2);
        return (await queue.fleet.attempts({ limit: 100 })).length === 2;
      }, { message: () => `pruned ${deleted}` });
      assert.equal(deleted, 4);
      assert.deepEqual((await queue.fleet.attempts({ limit: 100 })).map((a) => a.taskId), ['n4', 'n5']);
      // --skip-done reads the retained history: what was pruned is forgotten there too.
      assert.deepEqual([...(await queue.fleet.succeededIds())].sort(), ['n4', 'n5']);
    });

    it('keeps one row per worker, replaced on each put, and prunes rows not seen for long', async () => {
      const queue = await newQueue();
      const now = Date.now();
      await queue.fleet.putWorker(workerRow('w-old', now - 3 * 3_600_000));
      await queue.fleet.putWorker(workerRow('w-new', now - 60_000));
      await queue.fleet.putWorker(workerRow('w-new', now));
      const rows = await queue.fleet.workers();
      assert.deepEqual(rows.map((r) => r.workerId).sort(), ['w-new', 'w-old']);
      assert.deepEqual(rows.find((r) => r.workerId === 'w-new'), workerRow('w-new', now));
      assert.equal(await queue.fleet.pruneWorkers(now - 3_600_000), 1);
      assert.deepEqual((await queue.fleet.workers()).map((r) => r.workerId), ['w-new']);
    });

    it("keeps one queue's records apart from another's", async () => {
      const first = await newQueue();
      const second = await newQueue();
      await recordAll(first, [attempt('only-first', 'succeeded', 1000)]);
      await first.fleet.putWorker(workerRow('w-first', Date.now()));
      assert.deepEqual(await second.fleet.attempts({ limit: 10 }), []);
      assert.deepEqual(await second.fleet.workers(), []);
    });
  });
}
