/**
 * The lease keeper against a real SQLite queue, without processes: it keeps a
 * lease alive past its visibility timeout, notices a lease that is gone, rides
 * out an extension that fails for another reason, and never lets a settle
 * race an extension.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Lease } from '../../src/backends/backend.js';
import { BackendError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/log/logger.js';
import { JobQueue, type LeasedMessage } from '../../src/queue/job-queue.js';
import { createTask, type Task } from '../../src/task/task.js';
import { LeaseKeeper } from '../../src/worker/lease-keeper.js';
import { waitFor } from '../helpers/wait.js';

const VISIBILITY_MS = 1_000;

describe('lease keeper', () => {
  let home: string;
  let counter = 0;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'jobq-lease-keeper-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  async function leased(): Promise<{ queue: JobQueue; message: LeasedMessage }> {
    counter += 1;
    const queue = await JobQueue.open(`local/keeper-${counter}`, { env: { JOBQ_HOME: home } });
    await queue.push([createTask({ n: counter })]);
    const [message] = await queue.lease(1, VISIBILITY_MS);
    assert.ok(message);
    return { queue, message };
  }

  /** The queue's extend, counted. */
  function countedExtend(queue: JobQueue): { extend: (lease: Lease, ms: number) => Promise<Lease>; calls: () => number } {
    let calls = 0;
    return {
      extend: (lease, ms) => {
        calls += 1;
        return queue.extend(lease, ms);
      },
      calls: () => calls,
    };
  }

  it('extends the lease every visibility/2, so it outlives its timeout; stop() hands back the newest lease', async () => {
    const { queue, message } = await leased();
    const counted = countedExtend(queue);
    const keeper = new LeaseKeeper(message.lease, counted.extend, VISIBILITY_MS, silentLogger()).start();
    // Four beats span twice the visibility timeout.
    await waitFor(() => counted.calls() >= 4, { message: () => `${counted.calls()} beats` });
    assert.deepEqual(await queue.peek(10), [], 'still leased: the message never became visible');
    const latest = await keeper.stop();
    const calls = counted.calls();
    assert.equal(keeper.isLost, false);
    await queue.succeed(latest, message.task as Task, null);
    assert.equal(await queue.size(), 0);
    assert.equal(counted.calls(), calls, 'no beat after stop()');
    await queue.close();
  });

  it('a lease found gone: marked lost, the handler is called once, and beating stops', async () => {
    const { queue, message } = await leased();
    const counted = countedExtend(queue);
    const keeper = new LeaseKeeper(message.lease, counted.extend, VISIBILITY_MS, silentLogger()).start();
    let lost = 0;
    keeper.whenLost(() => (lost += 1));
    await queue.release(message.lease);
    await waitFor(() => keeper.isLost, { message: () => 'the lost lease was never noticed' });
    const calls = counted.calls();
    // A wait that gives a wrong beat the chance to happen (two beat intervals), not one that makes the test pass.
    await delay(VISIBILITY_MS);
    assert.equal(lost, 1);
    await keeper.stop();
    assert.equal(counted.calls(), calls, 'no beat after the loss');
    await queue.close();
  });

  it('an extension that fails for another reason is logged and retried at the next beat; the lease is kept', async () => {
    const { queue, message } = await leased();
    let calls = 0;
    const extend = (lease: Lease, ms: number): Promise<Lease> => {
      calls += 1;
      return calls === 1 ? Promise.reject(new BackendError('the storage did not answer')) : queue.extend(lease, ms);
    };
    const lines: string[] = [];
    const logger = createLogger({
      format: 'json',
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    });
    const keeper = new LeaseKeeper(message.lease, extend, VISIBILITY_MS, logger).start();
    await waitFor(() => calls >= 3, { message: () => `${calls} beats` });
    assert.equal(keeper.isLost, false);
    assert.ok(lines.some((line) => line.includes('"heartbeat_failed"')), 'the failure is logged');
    await queue.succeed(await keeper.stop(), message.task as Task, null);
    await queue.close();
  });

  /** A keeper whose first extension waits for `unblock()`; `extended()` is the lease that extension gave. */
  async function keeperInFlight(queue: JobQueue, lease: Lease): Promise<{ keeper: LeaseKeeper; unblock: () => void; extended: () => Lease | undefined }> {
    let unblock: (() => void) | undefined;
    let extended: Lease | undefined;
    const extend = async (current: Lease, ms: number): Promise<Lease> => {
      await new Promise<void>((resolve) => (unblock = resolve));
      extended = { ...(await queue.extend(current, ms)), token: current.token };
      return extended;
    };
    const keeper = new LeaseKeeper(lease, extend, VISIBILITY_MS, silentLogger()).start();
    await waitFor(() => unblock !== undefined, { message: () => 'no beat began' });
    return { keeper, unblock: () => unblock?.(), extended: () => extended };
  }

  it('stop() waits for the extension in flight and returns the lease it gave', async () => {
    const { queue, message } = await leased();
    const { keeper, unblock, extended } = await keeperInFlight(queue, message.lease);
    let stopped: Lease | undefined;
    const stopping = keeper.stop().then((lease) => (stopped = lease));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, undefined, 'stop() must wait for the extension in flight');
    unblock();
    await stopping;
    assert.equal(stopped, extended(), 'the newest lease, from the extension');
    await queue.close();
  });

  it('stopNow() answers at once only when no extension is in flight, with the newest lease', async () => {
    const { queue, message } = await leased();
    const idle = new LeaseKeeper(message.lease, (lease) => Promise.resolve(lease), VISIBILITY_MS, silentLogger()).start();
    assert.equal(idle.stopNow(), message.lease, 'no beat yet: the lease it was given');
    const { keeper, unblock, extended } = await keeperInFlight(queue, message.lease);
    assert.equal(keeper.stopNow(), undefined, 'an extension is in flight: stop() must wait for it');
    unblock();
    await waitFor(() => keeper.stopNow() !== undefined, { message: () => 'the finished extension still counts as in flight' });
    assert.equal(keeper.stopNow(), extended(), 'the newest lease, from the extension');
    await queue.close();
  });
});
