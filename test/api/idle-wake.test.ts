/**
 * An idle worker on PostgreSQL waits for a push, not for its next poll: a
 * task pushed while the worker's next poll is seconds away still starts at
 * once (LISTEN/NOTIFY through the queue layer's waitForPush).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runWorker } from '../../src/api/run.js';
import { shellTaskKwargs } from '../../src/push.js';
import { pushTask } from '../../src/api/push.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { testDatabase } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const db = await testDatabase();
after(() => db.drop());

describe('an idle worker wakes at a push (PostgreSQL)', { skip: db.skip }, () => {
  it('starts a task pushed to an idle worker long before its next poll', async () => {
    const queue = await JobQueue.open('pg/idle', { env: { ...process.env, JOBQ_DATABASE_URL: db.url } });
    const stop = new AbortController();
    try {
      const worker = runWorker(queue, {
        whenIdle: 'poll',
        maxIdlePollMs: 60_000,
        controlIntervalMs: 0,
        preemptionNotices: { sources: 'off' },
        signal: stop.signal,
      });
      // Let the worker go idle: its polls back off (0.25, 0.5, 1, 2, 4 s, then 8 s), so that 8.5 s
      // in it waits until about 15.75 s for its next poll. A wait that is a test's subject, not its pacing.
      await new Promise((resolve) => setTimeout(resolve, 8_500));
      const pushedAt = Date.now();
      await pushTask(queue, shellTaskKwargs('true'));
      await waitFor(async () => (await queue.size()) === 0, { timeoutMs: 30_000, intervalMs: 20, message: () => 'the task never ran' });
      const waited = Date.now() - pushedAt;
      stop.abort();
      const result = await worker;
      assert.equal(result.stats.succeeded, 1);
      assert.ok(waited < 4_000, `ran ${waited} ms after the push: it should be woken by the push, not by its poll 7 s later`);
    } finally {
      stop.abort();
      await queue.close();
    }
  });
});
