/**
 * A worker that dies (SIGKILL: the OOM killer, a crash) takes its tasks with
 * it: their sessions get SIGTERM, so they can checkpoint, and nothing of them
 * runs on unsupervised while the task runs again elsewhere.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { pidsMatching, pidsWithEnv } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

describe('tasks die with their worker (CLI)', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  it('a SIGKILLed worker: its task hears SIGTERM, checkpoints, and no process of it is left', async () => {
    const checkpoint = path.join(home.home, 'checkpoint');
    const cmd = `trap 'echo saved > ${checkpoint}; exit 0' TERM; echo ready; sleep 1404 & wait`;
    await runCli(['local/doomed', 'push', '-c', cmd, '-c', 'echo second'], { env });
    const worker = startCli(['local/doomed', 'worker', '-n', '2'], { env });
    await worker.waitForOutput(/^ready$/m);
    await waitFor(() => pidsMatching('sleep 1404').length >= 2, { timeoutMs: 10_000 });
    // The other task is settled (deleted) first: only the killed one is left to come back.
    await waitFor(async () => (await runCli(['local/doomed', 'size'], { env })).stdout.trim() === '1', { timeoutMs: 10_000 });
    worker.signal('SIGKILL');
    await worker.exited;
    await waitFor(() => pidsWithEnv('JOBQ_QUEUE_NAME', 'doomed').length === 0, {
      timeoutMs: 10_000,
      message: () => `task processes left: ${pidsWithEnv('JOBQ_QUEUE_NAME', 'doomed').join(', ')}`,
    });
    assert.equal(readFileSync(checkpoint, 'utf8').trim(), 'saved');
    assert.equal((await runCli(['local/doomed', 'size'], { env })).stdout.trim(), '1', 'the killed task waits for its lease to expire');
  });

  it('a worker that ends normally leaves no helper process behind', async () => {
    const own = tempHome();
    try {
      await runCli(['local/tidy', 'push', '-c', 'echo one', '-c', 'echo two'], { env: own.env });
      const worker = await runCli(['local/tidy', 'worker'], { env: own.env });
      assert.equal(worker.code, 0, worker.stderr);
      await waitFor(() => pidsWithEnv('JOBQ_HOME', own.home).length === 0, {
        timeoutMs: 10_000,
        message: () => `processes left: ${pidsWithEnv('JOBQ_HOME', own.home).join(', ')}`,
      });
    } finally {
      own.cleanup();
    }
  });
});
