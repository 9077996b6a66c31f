/**
 * The lease buffer against a real SQLite queue: it leases ahead of the slots
 * when they take leases fast, keeps what it holds heart-beaten, gives it back
 * at once on a stop, and never leases more than it may.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { JobQueue } from '../../src/queue.js';
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

  const visible = async (queue: JobQueue): Promise<number> => (await queue.store.peek(1000)).length;

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
    for (const held of taken) await queue.store.complete((await held.keeper?.stop()) ?? held.message.lease);
  }

  it('leases ahead of slots that take leases fast, and a stop gives what it holds back at once', async () => {
    const queue = await filledQueue();
    const leases = buffer(queue);
    const taken: HeldLease[] = [];
    try {
      await takeUntilBuffered(queue, leases, taken);
      leases.releaseBuffered();
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length, 'every lease not taken is visible again');
      assert.ok(taken.every((held) => held.message.task !== undefined));
    } finally {
      await settle(queue, taken);
      await queue.close();
    }
  });

  it('keeps the leases it holds heart-beaten', async () => {
    const queue = await filledQueue();
    const visibilityMs = 1_000;
    const leases = buffer(queue, { visibilityMs });
    const taken: HeldLease[] = [];
    try {
      await takeUntilBuffered(queue, leases, taken);
      const leasedAt = Date.now();
      const visibleBefore = await visible(queue);
      // The one timed wait: nothing may become visible for three lease lengths.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, leasedAt + 3 * visibilityMs - Date.now())));
      assert.equal(await visible(queue), visibleBefore, 'no lease expired, buffered or taken');
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length);
    } finally {
      await settle(queue, taken);
      await queue.close();
    }
  });

  it('never leases more than maxTasks', async () => {
    const queue = await filledQueue();
    const leases = buffer(queue, { maxTasks: 1 });
    const taken: HeldLease[] = [];
    try {
      const first = await leases.next();
      assert.ok(first);
      taken.push(first);
      assert.equal(await leases.next(), undefined);
      await leases.close();
      assert.equal(await visible(queue), TASKS - 1);
    } finally {
      await settle(queue, taken);
      await queue.close();
    }
  });

  it('gives leases that come back after a stop to the slots that asked, and the rest back to the queue', async () => {
    const queue = await filledQueue();
    let running = true;
    const leases = buffer(queue, { isRunning: () => running });
    const taken: HeldLease[] = [];
    try {
      await takeUntilBuffered(queue, leases, taken);
      leases.releaseBuffered();
      // The buffer is empty: a slot's lease call goes out, for more than the slot (the rate is high)...
      const pending = leases.next();
      // ...and a stop comes while it is in flight.
      running = false;
      const late = await pending;
      assert.ok(late, 'the slot that asked gets its lease');
      taken.push(late);
      await leases.close();
      assert.equal(await visible(queue), TASKS - taken.length, 'nothing kept for later while stopped');
    } finally {
      await settle(queue, taken);
      await queue.close();
    }
  });
});
