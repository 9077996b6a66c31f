/**
 * The lease buffer against a real SQLite queue: it leases ahead of the slots
 * when they take leases fast, keeps what it holds heart-beaten, gives it back
 * at once on a stop, and never leases more than it may (a lease given back
 * counts no more).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { createTask } from '../../src/task/task.js';
import { LeaseBuffer, type HeldLease, type LeaseBufferOptions } from '../../src/worker/lease-buffer.js';
import { waitFor } from '../helpers/wait.js';

const TASKS = 200;

describe('lease buffer', () => {
  let home: string;
  let counter = 0;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'jobq-lease-buffer-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  /** A queue of its own, holding TASKS tasks. */
  async function filledQueue(): Promise<JobQueue> {
    counter += 1;
    const queue = await JobQueue.open(`local/buffer-${counter}`, { env: { JOBQ_HOME: home } });
    await queue.push(Array.from({ length: TASKS }, (_, i) => createTask({ i })));
    return queue;
  }

  function buffer(queue: JobQueue, options: Partial<LeaseBufferOptions> = {}): LeaseBuffer {
    return new LeaseBuffer(queue, {
      visibilityMs: 60_000,
      heartbeat: true,
      maxTasks: Number.POSITIVE_INFINITY,
      isRunning: () => true,
      logger: silentLogger(),
      ...options,
    });
  }

  const visible = async (queue: JobQueue): Promise<number> => (await queue.peek(1000)).length;

  /** Waits until every lease not taken is visible again (before close(), which would release them anyway). */
  function untakenVisible(queue: JobQueue, taken: readonly HeldLease[]): Promise<void> {
    let seen = Number.NaN;
    return waitFor(async () => (seen = await visible(queue)) === TASKS - taken.length, {
      message: () => `${seen} visible, expected ${TASKS - taken.length}`,
    });
  }

  /** Takes leases as a busy slot would, until the buffer holds some the slots have not taken. */
  async function takeUntilBuffered(queue: JobQueue, leases: LeaseBuffer, taken: HeldLease[]): Promise<void> {
    await waitFor(
      async () => {
        const held = await leases.next();
        assert.ok(held, 'the queue still has tasks');
        taken.push(held);
        return TASKS - (await visible(queue)) > taken.length;
      },
      { intervalMs: 0, message: () => `nothing leased ahead after ${taken.length} leases` },
    );
  }

  /** What a slot does with the leases it took: stop their heartbeats, complete them. */
  async function settle(queue: JobQueue, taken: readonly HeldLease[]): Promise<void> {
    for (const { keeper, message } of taken) {
      assert.ok(message.task, 'the buffer test pushes valid tasks');
      await queue.succeed((await keeper?.stop()) ?? message.lease, message.task, null);
    }
  }

  /** Runs `body` with a buffer on a queue of its own; then settles what was taken and closes the queue. */
  async function withBuffer(
    options: Partial<LeaseBufferOptions>,
    body: (queue: JobQueue, leases: LeaseBuffer, taken: HeldLease[]) => Promise<void>,
  ): Promise<void> {
    const queue = await filledQueue();
    const taken: HeldLease[] = [];
    try {
      await body(queue, buffer(queue, options), taken);
    } finally {
      await settle(queue, taken);
      await queue.close();
    }
  }

  it('leases ahead of slots that take leases fast, and a stop gives what it holds back at once', async () => {
    await withBuffer({}, async (queue, leases, taken) => {
      await takeUntilBuffered(queue, leases, taken);
      leases.releaseBuffered();
      await untakenVisible(queue, taken);
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length, 'every lease not taken is visible again');
      assert.ok(taken.every((held) => held.message.task !== undefined));
    });
  });

  it('keeps the leases it holds heart-beaten', async () => {
    const visibilityMs = 1_000;
    await withBuffer({ visibilityMs }, async (queue, leases, taken) => {
      await takeUntilBuffered(queue, leases, taken);
      const leasedAt = Date.now();
      const visibleBefore = await visible(queue);
      // The one timed wait: nothing may become visible for three lease lengths.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, leasedAt + 3 * visibilityMs - Date.now())));
      assert.equal(await visible(queue), visibleBefore, 'no lease expired, buffered or taken');
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length);
    });
  });

  it('never leases more than maxTasks', async () => {
    await withBuffer({ maxTasks: 1 }, async (queue, leases, taken) => {
      const first = await leases.next();
      assert.ok(first);
      taken.push(first);
      assert.equal(await leases.next(), undefined);
      await leases.close();
      assert.equal(await visible(queue), TASKS - 1);
    });
  });

  it('counts a lease given back no more toward maxTasks', async () => {
    const maxTasks = 50;
    await withBuffer({ maxTasks }, async (queue, leases, taken) => {
      await takeUntilBuffered(queue, leases, taken);
      leases.releaseBuffered();
      await untakenVisible(queue, taken);
      while (taken.length < maxTasks) {
        const held = await leases.next();
        assert.ok(held, `no lease after ${taken.length} taken, though ${maxTasks} may be`);
        taken.push(held);
      }
      assert.equal(await leases.next(), undefined, 'no more than maxTasks');
      await leases.close();
      assert.equal(await visible(queue), TASKS - maxTasks);
    });
  });

  it('slots that ask at once share lease calls, several in flight when they need more than one call brings', async () => {
    await withBuffer({}, async (queue, leases, taken) => {
      // A batch limit as small as 4 (Azure's is 32), so that 10 waiting slots need three calls.
      Object.defineProperty(queue, 'capabilities', { value: { ...queue.capabilities, maxLeaseBatch: 4 } });
      let inFlight = 0;
      let peak = 0;
      /** What each lease call asked for. */
      const asked: number[] = [];
      const lease = queue.lease.bind(queue);
      queue.lease = async (max, visibilityMs) => {
        asked.push(max);
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        try {
          return await lease(max, visibilityMs);
        } finally {
          inFlight -= 1;
        }
      };
      const held = await Promise.all(Array.from({ length: 10 }, () => leases.next()));
      for (const lease of held) {
        assert.ok(lease, 'every waiting slot gets a lease');
        taken.push(lease);
      }
      assert.deepEqual(asked, [4, 4, 2], 'the ten slots share three calls');
      assert.ok(peak >= 3, `at most ${peak} lease call(s) in flight at once`);
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length);
    });
  });

  it('gives leases that come back after a stop to the slots that asked, and the rest back to the queue', async () => {
    /** How many messages each lease call got. */
    const leaseCalls: number[] = [];
    let running = true;
    /** The next lease call brings a stop with it, while it is in flight. */
    let stopWithNextCall = false;
    await withBuffer({ isRunning: () => running }, async (queue, leases, taken) => {
      const lease = queue.lease.bind(queue);
      queue.lease = async (max, visibilityMs) => {
        if (stopWithNextCall) running = stopWithNextCall = false;
        const messages = await lease(max, visibilityMs);
        leaseCalls.push(messages.length);
        return messages;
      };
      // The call must lease ahead of the slot, which takes a high rate: a loaded machine may need another try.
      await waitFor(
        async () => {
          running = true;
          await takeUntilBuffered(queue, leases, taken);
          leases.releaseBuffered();
          // The buffer is empty: a slot's lease call goes out, for more than the slot (the rate is high),
          // and a stop comes while it is in flight.
          stopWithNextCall = true;
          const late = await leases.next();
          assert.ok(late, 'the slot that asked gets its lease');
          taken.push(late);
          return (leaseCalls.at(-1) ?? 0) > 1;
        },
        { intervalMs: 0, message: () => 'no lease call leased more than the slot asked for' },
      );
      await untakenVisible(queue, taken);
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length, 'nothing kept for later while stopped');
    });
  });
});
