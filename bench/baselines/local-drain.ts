/**
 * The floor for the storage side of function tasks on local/: jobq's own
 * queue layer alone, on one thread, with nothing run. It leases 64 tasks at
 * a time (what a busy worker leases ahead) and settles each as succeeded with
 * its attempt record, all 64 at once, as a worker's slots do in the
 * background; it ends when a lease finds nothing. This is the SQLite work a
 * worker's main thread does per task besides handing the task to a thread.
 *
 *   JOBQ_HOME=… node dist/bench/baselines/local-drain.js QUEUE
 */
import os from 'node:os';
import type { AttemptRecord } from '../../src/backends/fleet.js';
import { JobQueue } from '../../src/queue/job-queue.js';

const [name] = process.argv.slice(2);
if (!name) throw new Error('usage: JOBQ_HOME=… local-drain.js QUEUE');
const queue = await JobQueue.open(`local/${name}`);
const host = os.hostname();
try {
  for (;;) {
    const leased = await queue.lease(64, 60_000);
    if (leased.length === 0) break;
    await Promise.all(
      leased.map(({ lease, task }) => {
        if (!task) throw new Error(`message ${lease.messageId} is not a task`);
        const now = Date.now();
        const attempt: AttemptRecord = {
          taskId: task.id,
          kind: 'function',
          command: task.kwargsJson,
          workerId: 'drain',
          host,
          pid: process.pid,
          startedAt: now,
          endedAt: now,
          durationMs: 0,
          outcome: 'succeeded',
          stop: null,
          exitCode: null,
          signal: null,
          error: null,
          output: null,
        };
        return queue.succeed(lease, task, null, attempt);
      }),
    );
  }
} finally {
  await queue.close();
}
