/**
 * The session guard is what stops a worker's tasks when the worker dies. If
 * the guard itself is killed while tasks run, the worker says so and starts
 * a new one that knows every running task: a later death of the worker still
 * reaches them.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { pidsMatching, pidsWithEnv } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

describe('a killed session guard', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  /** The guards of this test's workers. */
  const guards = (): number[] => {
    const ours = new Set(pidsWithEnv('JOBQ_HOME', home.home));
    return pidsMatching('jobq-session-guard').filter((pid) => ours.has(pid));
  };

  it('is reported and replaced; the new guard stops the running task when the worker dies', async () => {
    const checkpoint = path.join(home.home, 'checkpoint');
    const cmd = `trap 'echo saved > ${checkpoint}; exit 0' TERM; echo ready; sleep 1405 & wait`;
    assert.equal((await runCli(['local/guarded', 'push', '-c', cmd], { env })).code, 0);
    const worker = startCli(['local/guarded', 'worker'], { env });
    await worker.waitForOutput(/^ready$/m);
    await waitFor(() => guards().length === 1, { timeoutMs: 10_000, message: () => `guards: ${guards().join(', ')}` });
    const [first] = guards() as [number];

    process.kill(first, 'SIGKILL');
    await worker.waitForOutput(new RegExp(`session guard \\(pid ${first}\\) exited killed by SIGKILL`), 10_000);
    await worker.waitForOutput(/new session guard \(pid \d+\) watching 1 running task session/, 10_000);
    await waitFor(() => guards().length === 1 && guards()[0] !== first, { timeoutMs: 10_000, message: () => `guards: ${guards().join(', ')}` });

    worker.signal('SIGKILL');
    await worker.exited;
    await waitFor(() => pidsWithEnv('JOBQ_QUEUE_NAME', 'guarded').length === 0, {
      timeoutMs: 10_000,
      message: () => `task processes left: ${pidsWithEnv('JOBQ_QUEUE_NAME', 'guarded').join(', ')}`,
    });
    assert.equal(readFileSync(checkpoint, 'utf8').trim(), 'saved', 'the task heard SIGTERM from the new guard');
  });
});
