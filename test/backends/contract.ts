/**
 * The backend contract (SPEC §3): one suite that every backend passes, run by
 * each backend's test file against a real store. Each test gets its own
 * uniquely named queue. Waits for things that take time (a lease expiring) poll
 * a condition until a generous deadline instead of sleeping a fixed time; the
 * one timed wait checks that something does NOT happen before a lease's end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Backend, Lease, QueueStore } from '../../src/backends/backend.js';
import { hasCode } from '../../src/errors.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { createTask } from '../../src/task/task.js';

export interface ContractSubject {
  backend: Backend;
  cleanup(): Promise<void>;
}

/** Long enough that a loaded machine never sees a lease expire by accident. */
const LONG_MS = 60_000;
/** Short leases for the tests that wait for expiry. */
const SHORT_MS = 1_000;
/** How long a condition may take to become true. */
const DEADLINE_MS = 30_000;

/** Polls `probe` until it returns a value other than undefined, or fails at the deadline. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${DEADLINE_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function waitUntil(time: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}

async function rejectsLeaseLost(promise: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(hasCode(err, 'LEASE_LOST'), `${what}: expected LEASE_LOST, got ${String(err)}`);
    return true;
  });
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1, `expected one item, got ${items.length}`);
  return items[0] as T;
}

export function backendContract(label: string, makeBackend: () => Promise<ContractSubject>): void {
  describe(`backend contract: ${label}`, () => {
    let subject: ContractSubject | undefined;
    const prefix = `c${randomBytes(3).toString('hex')}`;
    let counter = 0;

    before(async () => {
      subject = await makeBackend();
    });
    after(async () => {
      await subject?.cleanup();
    });

    const backend = (): Backend => {
      assert.ok(subject, 'the backend was not opened');
      return subject.backend;
    };

    /** A new, empty, created queue with a name no other test uses. */
    const freshQueue = async (): Promise<QueueStore> => {
      counter += 1;
      const queue = backend().queue(`${prefix}-${counter}`);
      await queue.create();
      return queue;
    };

    /** A JobQueue over a fresh queue and its dead-letter queue. */
    const freshJobQueue = async (): Promise<JobQueue> => {
      const store = await freshQueue();
      const jobs = new JobQueue(backend(), store.name);
      await jobs.create();
      return jobs;
    };

    /** Leases the one message that becomes visible again, waiting for an expiry. */
    const leaseAgain = (queue: QueueStore): Promise<Lease> =>
      eventually('the message to become visible again', async () => {
        const leases = await queue.lease(1, LONG_MS);
        return leases.length > 0 ? only(leases) : undefined;
      });

    it('create is idempotent and a new queue is empty', async () => {
      const queue = await freshQueue();
      await queue.create();
      assert.equal(await queue.size(), 0);
      assert.deepEqual(await queue.peek(5), []);
    });

    it('lease on an empty queue returns []', async () => {
      const queue = await freshQueue();
      assert.deepEqual(await queue.lease(1, LONG_MS), []);
      assert.deepEqual(await queue.lease(5, LONG_MS), []);
    });

    it('leases in push order for a single producer', async () => {
      const queue = await freshQueue();
      for (const body of ['first', 'second', 'third']) await queue.push([body]);
      const bodies: string[] = [];
      for (let i = 0; i < 3; i += 1) bodies.push(only(await queue.lease(1, LONG_MS)).body);
      assert.deepEqual(bodies, ['first', 'second', 'third']);
    });

    it('push many and lease several at once', async () => {
      const queue = await freshQueue();
      const pushed = ['m1', 'm2', 'm3', 'm4', 'm5'];
      await queue.push(pushed);
      const first = await queue.lease(3, LONG_MS);
      assert.equal(first.length, 3);
      const rest = await queue.lease(10, LONG_MS);
      assert.equal(rest.length, 2);
      const leased = [...first, ...rest];
      assert.deepEqual(leased.map((lease) => lease.body).sort(), pushed);
      assert.equal(new Set(leased.map((lease) => lease.messageId)).size, 5);
      assert.deepEqual(await queue.lease(1, LONG_MS), []);
    });

    it('a leased message is invisible to a second lease', async () => {
      const queue = await freshQueue();
      await queue.push(['only']);
      const lease = only(await queue.lease(1, LONG_MS));
      assert.equal(lease.body, 'only');
      assert.deepEqual(await queue.lease(1, LONG_MS), []);
    });

    it('a lease that expires makes the message visible again and counts deliveries', async () => {
      const queue = await freshQueue();
      await queue.push(['again']);
      const first = only(await queue.lease(1, SHORT_MS));
      assert.equal(first.deliveries, 1);
      const second = await leaseAgain(queue);
      assert.equal(second.messageId, first.messageId);
      assert.equal(second.body, 'again');
      assert.equal(second.deliveries, 2);
    });

    it('extend keeps the message invisible and returns a usable token', async () => {
      const queue = await freshQueue();
      await queue.push(['extended']);
      const leasedAt = Date.now();
      const lease = only(await queue.lease(1, SHORT_MS));
      const extended = await queue.extend(lease, LONG_MS);
      assert.equal(extended.messageId, lease.messageId);
      assert.equal(extended.body, lease.body);
      // Wait well past the first lease's expiry: the test then checks that nothing is visible.
      await waitUntil(leasedAt + 3 * SHORT_MS);
      assert.deepEqual(await queue.lease(1, LONG_MS), []);
      const again = await queue.extend(extended, LONG_MS);
      await queue.complete(again);
      assert.equal(await queue.size(), 0);
    });

    it('complete deletes the message', async () => {
      const queue = await freshQueue();
      await queue.push(['done']);
      await queue.complete(only(await queue.lease(1, LONG_MS)));
      assert.equal(await queue.size(), 0);
      assert.deepEqual(await queue.peek(5), []);
    });

    it('release makes the message visible at once', async () => {
      const queue = await freshQueue();
      await queue.push(['back']);
      const lease = only(await queue.lease(1, LONG_MS));
      await queue.release(lease);
      assert.equal(await queue.size(), 1);
      const again = only(await queue.lease(1, LONG_MS));
      assert.equal(again.body, 'back');
    });

    it("a released message's deliveries start again from zero", async () => {
      const queue = await freshQueue();
      await queue.push(['counted']);
      only(await queue.lease(1, SHORT_MS));
      const second = await leaseAgain(queue);
      assert.equal(second.deliveries, 2, 'an expired lease counts');
      await queue.release(second);
      const third = only(await queue.lease(1, LONG_MS));
      assert.equal(third.deliveries, 1, 'a release resets the count');
      assert.equal(third.body, 'counted');
      assert.equal(await queue.size(), 1, 'still one message');
    });

    it('release can replace the body', async () => {
      const queue = await freshQueue();
      await queue.push(['old body']);
      await queue.release(only(await queue.lease(1, LONG_MS)), 'new body');
      assert.equal(only(await queue.peek(5)).body, 'new body');
      assert.equal(only(await queue.lease(1, LONG_MS)).body, 'new body');
    });

    it('every settle with the token of a completed lease is LEASE_LOST', async () => {
      const queue = await freshQueue();
      await queue.push(['gone']);
      const lease = only(await queue.lease(1, LONG_MS));
      await queue.complete(lease);
      await rejectsLeaseLost(queue.complete(lease), 'complete');
      await rejectsLeaseLost(queue.extend(lease, LONG_MS), 'extend');
      await rejectsLeaseLost(queue.release(lease), 'release');
      await rejectsLeaseLost(queue.release(lease, 'replacement'), 'release with a body');
      assert.equal(await queue.size(), 0, 'a refused release leaves nothing behind');
    });

    it('every settle with the token of an expired lease someone else took is LEASE_LOST', async () => {
      const queue = await freshQueue();
      await queue.push(['taken']);
      const stale = only(await queue.lease(1, SHORT_MS));
      const current = await leaseAgain(queue);
      await rejectsLeaseLost(queue.extend(stale, LONG_MS), 'extend');
      await rejectsLeaseLost(queue.release(stale, 'stale body'), 'release');
      await rejectsLeaseLost(queue.complete(stale), 'complete');
      // The current holder is unaffected.
      const extended = await queue.extend(current, LONG_MS);
      assert.deepEqual(await queue.peek(5), []);
      await queue.complete(extended);
      assert.equal(await queue.size(), 0);
    });

    it('settles sent together succeed or fail each on its own', async () => {
      const queue = await freshQueue();
      await queue.push(['done', 'back', 'gone']);
      const leases = new Map((await queue.lease(3, LONG_MS)).map((lease) => [lease.body, lease]));
      const lease = (body: string): Lease => {
        const found = leases.get(body);
        assert.ok(found, `leased ${body}`);
        return found;
      };
      await queue.complete(lease('gone'));
      // Not awaited one by one: a backend that batches writes gets them in one batch.
      const [done, stale, back] = await Promise.allSettled([
        queue.complete(lease('done')),
        queue.complete(lease('gone')),
        queue.release(lease('back')),
      ]);
      assert.equal(done.status, 'fulfilled');
      assert.equal(back.status, 'fulfilled');
      assert.ok(stale.status === 'rejected' && hasCode(stale.reason, 'LEASE_LOST'), 'the stale complete is LEASE_LOST');
      assert.deepEqual((await queue.peek(5)).map((message) => message.body), ['back']);
      assert.equal(await queue.size(), 1);
    });

    it('peek shows visible messages without leasing them', async () => {
      const queue = await freshQueue();
      await queue.push(['p1']);
      await queue.push(['p2']);
      const peeked = await queue.peek(5);
      assert.deepEqual(
        peeked.map((message) => [message.body, message.deliveries]),
        [
          ['p1', 0],
          ['p2', 0],
        ],
      );
      assert.deepEqual((await queue.peek(1)).map((message) => message.body), ['p1']);
      const lease = only(await queue.lease(1, LONG_MS));
      assert.equal(lease.body, 'p1');
      assert.equal(lease.deliveries, 1);
      assert.equal(lease.messageId, peeked[0]?.messageId);
      assert.deepEqual((await queue.peek(5)).map((message) => message.body), ['p2']);
    });

    it('size counts leased and visible messages', async () => {
      const queue = await freshQueue();
      await queue.push(['s1', 's2', 's3']);
      assert.equal(await queue.size(), 3);
      const lease = only(await queue.lease(1, LONG_MS));
      assert.equal(await queue.size(), 3);
      await queue.complete(lease);
      assert.equal(await queue.size(), 2);
    });

    it('clear empties the queue, leased messages included', async () => {
      const queue = await freshQueue();
      await queue.push(['c1', 'c2', 'c3']);
      const lease = only(await queue.lease(1, LONG_MS));
      await queue.clear();
      assert.equal(await queue.size(), 0);
      assert.deepEqual(await queue.lease(5, LONG_MS), []);
      await rejectsLeaseLost(queue.complete(lease), 'complete after clear');
    });

    it('queues are independent', async () => {
      const a = await freshQueue();
      const b = await freshQueue();
      await a.push(['for a']);
      assert.equal(await b.size(), 0);
      assert.deepEqual(await b.lease(1, LONG_MS), []);
      assert.equal(only(await a.lease(1, LONG_MS)).body, 'for a');
    });

    it('unicode and markup bodies round-trip exactly', async () => {
      const queue = await freshQueue();
      const bodies = [
        'héllo wörld — ü ß æ',
        '日本語のテキスト 🎉🚀 \u{1F9EA}',
        '<xml attr="1">&amp; & < > \' "</xml>',
        '  leading and trailing spaces  ',
        '{"version": 1, "kwargs": "{\\"cmd\\": \\"echo \\\\u00e9\\"}"}',
      ];
      for (const body of bodies) await queue.push([body]);
      const leased = await queue.lease(bodies.length, LONG_MS);
      assert.deepEqual(leased.map((lease) => lease.body).sort(), [...bodies].sort());
      const replaced = '↩ released: ✓ <&>';
      const first = leased[0];
      assert.ok(first);
      await queue.release(first, replaced);
      assert.equal(only(await queue.lease(1, LONG_MS)).body, replaced);
    });

    it('the largest body the backend declares fits', async (t) => {
      const limit = backend().capabilities.maxMessageBytes;
      if (limit === undefined) return t.skip('no size limit');
      const queue = await freshQueue();
      // The limit applies to the text, not to its XML-escaped form in Azure's request body.
      // ASCII only: Azurite corrupts multi-byte characters in large bodies.
      const body = '"<&>\''.repeat(limit / 8) + 'x'.repeat(limit - 5 * (limit / 8));
      assert.equal(Buffer.byteLength(body, 'utf8'), limit);
      await queue.push([body]);
      assert.equal(only(await queue.lease(1, LONG_MS)).body, body);
    });

    describe('through JobQueue', () => {
      it('a pushed task round-trips', async () => {
        const jobs = await freshJobQueue();
        const task = createTask({ cmd: 'echo héllo', bg_dirsync_to: null, env: { A: '1' } }, { numRetries: 2 });
        await jobs.push([task]);
        const message = only(await jobs.lease(1, LONG_MS));
        assert.equal(message.invalid, undefined);
        assert.deepEqual(message.task, task);
        await jobs.succeed(message.lease, task, null);
        assert.equal(await jobs.size(), 0);
      });

      it('retry puts the task back with one retry fewer and the same id', async () => {
        const jobs = await freshJobQueue();
        const task = createTask({ cmd: 'false' }, { numRetries: 2 });
        await jobs.push([task]);
        const first = only(await jobs.lease(1, LONG_MS));
        assert.ok(first.task);
        await jobs.retry(first.lease, first.task);
        const second = only(await jobs.lease(1, LONG_MS));
        assert.equal(second.task?.id, task.id);
        assert.equal(second.task?.numRetries, 1);
        assert.equal(second.task?.kwargsJson, task.kwargsJson);
        assert.equal(second.lease.deliveries, 1, 'a retry is a settlement: the count starts again');
      });

      it('deadLetter records the failure in NAME-failed and removes the message; requeue puts it back', async () => {
        const jobs = await freshJobQueue();
        const task = createTask({ cmd: 'exit 3' });
        await jobs.push([task]);
        const message = only(await jobs.lease(1, LONG_MS));
        const details = { error: 'exit code 3', output: ['line 1', 'line 2'], exitCode: 3 };
        await jobs.deadLetter(message.lease, task, details);
        assert.equal(await jobs.size(), 0);
        assert.equal(await jobs.deadLetterCount(), 1);
        const record = only(await jobs.listDeadLetters(10));
        assert.equal(record.task, message.lease.body);
        assert.equal(record.task_id, task.id);
        assert.equal(record.error, 'exit code 3');
        assert.deepEqual(record.output, ['line 1', 'line 2']);
        assert.equal(record.exit_code, 3);
        assert.equal(record.queue, jobs.name);
        assert.equal(record.deliveries, 1);
        assert.ok(record.host.length > 0);
        assert.ok(!Number.isNaN(Date.parse(record.failed_at)));

        assert.equal(await jobs.requeueDeadLetters({ numRetries: 2 }), 1);
        assert.equal(await jobs.deadLetterCount(), 0);
        const again = only(await jobs.lease(1, LONG_MS));
        assert.equal(again.task?.id, task.id);
        assert.equal(again.task?.numRetries, 2);
      });

      it('a task over the size limit is refused before anything is sent', async (t) => {
        const limit = backend().capabilities.maxMessageBytes;
        if (limit === undefined) return t.skip('no size limit');
        const jobs = await freshJobQueue();
        const small = createTask({ cmd: 'true' });
        const large = createTask({ cmd: 'x'.repeat(limit) });
        await assert.rejects(jobs.push([small, large]), (err: unknown) => {
          assert.ok(hasCode(err, 'TASK_TOO_LARGE'), `expected TASK_TOO_LARGE, got ${String(err)}`);
          return true;
        });
        assert.equal(await jobs.size(), 0);
      });
    });
  });
}
