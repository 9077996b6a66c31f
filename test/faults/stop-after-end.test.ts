/**
 * A stop that comes after a task has ended on its own, before the worker has
 * seen the end, must not make a finished task run again: the outcome says the
 * stop did not reach it (the worker then settles it by its outcome).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createShellProcessor } from '../../src/processors/shell/shell.js';
import { readStat } from '../../src/processors/shell/session.js';
import { shellTaskKwargs } from '../../src/push.js';
import { createTask } from '../../src/task/task.js';
import { tempHome } from '../helpers/cli.js';
import { pidsMatching } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/** Blocks the event loop until `condition` holds, so that no exit event can be handled meanwhile. */
function blockUntil(condition: () => boolean, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
  }
}

describe('a stop after the task has ended', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const processor = createShellProcessor();
  after(() => processor.close());

  const start = (cmd: string) =>
    processor.start({ task: createTask(shellTaskKwargs(cmd)), queueName: 'ended', log: () => {} });

  it('does not reach the task: its outcome stands and says so', async () => {
    const pidFile = path.join(home.home, 'pid');
    const running = start(`echo $$ > ${pidFile}; exit 0`);
    const shellPid = (): number => Number(readFileSync(pidFile, { encoding: 'utf8', flag: 'a+' }).trim() || 0);
    // Until the shell is a zombie: it has exited, and this process has not reaped it yet.
    blockUntil(() => shellPid() > 0 && readStat(shellPid())?.state === 'Z', 10_000);
    running.stop();
    const outcome = await running.done;
    assert.equal(outcome.ok, true);
    assert.equal(outcome.endedBeforeStop, true);
  });

  it('a stop while the task runs reaches it as before', async () => {
    const running = start("trap 'exit 0' TERM; sleep 1405 & wait");
    // The shell and its sleep: the trap is set.
    await waitFor(() => pidsMatching('sleep 1405').length >= 2, { timeoutMs: 10_000 });
    running.stop();
    const outcome = await running.done;
    assert.equal(outcome.ok, true);
    assert.equal(outcome.endedBeforeStop, undefined);
  });
});
