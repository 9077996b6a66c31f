import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCli, startCli, tempHome, type CliProcess } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/paths.js';
import { killMatching, pidsMatching, pidsOfTask } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const dummy = path.join(fixturesDir, 'dummy_task.py');

describe('preemption: SIGINT reaches the program, whatever the shell did (CLI)', () => {
  const home = tempHome();
  const env = { ...home.env, DUMMY_CHECKPOINT_SECONDS: '2' };
  after(() => home.cleanup());
  afterEach(() => {
    const left = pidsMatching(dummy);
    killMatching(dummy);
    assert.deepEqual(left, [], 'no dummy task outlives the worker');
  });

  const variants = [
    { name: 'set -o monitor', queue: 'monitor', cmd: 'set -o monitor && python3 ./dummy_task.py', cwd: fixturesDir },
    { name: 'cd first, then set -o monitor', queue: 'cdfirst', cmd: `cd /tmp ; set -o monitor && python3 ${dummy}`, cwd: fixturesDir },
    { name: 'a nested bash -c', queue: 'nested', cmd: "bash -c 'python3 ./dummy_task.py'", cwd: fixturesDir },
  ];

  for (const variant of variants) {
    it(`${variant.name}: both running tasks checkpoint, the worker exits 130 after them, all 40 tasks stay queued`, async () => {
      const spec = `local/${variant.queue}`;
      const push = await runCli([spec, 'push'], { env, input: `${variant.cmd}\n`.repeat(40) });
      assert.equal(push.code, 0, push.stderr);
      const worker = startCli(
        [spec, 'worker', '--num-workers', '2', '--heartbeat', '--max-consecutive-failures', '5', '--time-limit', '1d'],
        { env, cwd: variant.cwd },
      );
      await waitForCount(worker, /^RUNNING \d+/gm, 2);
      worker.signal('SIGINT');
      const exit = await worker.exited;
      assert.equal(exit.code, 130, exit.stderr);
      assert.equal(worker.count(/^CHECKPOINTING Received signal 15/gm), 2, worker.output);
      // The worker waited for the programs: their last words are in its log.
      assert.equal(worker.count(/^CHECKPOINT DONE/gm), 2, worker.output);
      assert.equal((await runCli([spec, 'size'], { env })).stdout.trim(), '40');
      assert.equal((await runCli([spec, 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
    });
  }
});

describe('stop sources (CLI)', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  it('SIGINT with two trapping tasks: both hear TERM, both go back, the worker is gone within 2 s', async () => {
    const cmd = 'sleep 10 & trap "echo got TERM; kill -15 $!" TERM; wait $!';
    await runCli(['local/trapping', 'push', '-c', `${cmd}; echo a`, '-c', `${cmd}; echo b`], { env });
    const worker = startCli(['local/trapping', 'worker', '-n', '2'], { env });
    await waitForCount(worker, /task \w+ started/g, 2);
    // The two `sleep 10` of this test's tasks (not their shells, nor another test's processes).
    await waitFor(() => pidsOfTask(['sleep', '10'], { name: 'JOBQ_HOME', value: home.home }).length >= 2, { timeoutMs: 10_000 });
    const signalled = Date.now();
    worker.signal('SIGINT');
    const exit = await worker.exited;
    assert.ok(Date.now() - signalled < 2_000, `gone in ${Date.now() - signalled} ms`);
    assert.equal(exit.code, 130);
    assert.equal(worker.count(/^got TERM$/gm), 2, worker.output);
    assert.equal((await runCli(['local/trapping', 'size'], { env })).stdout.trim(), '2');
  });

  it('SIGTERM braces for JOBQ_PREEMPTION_TIMEOUT, then resumes and drains the queue', async () => {
    const marker = path.join(home.home, 'preempted-once');
    const cmd = `if [ -f ${marker} ]; then echo second-run; exit 0; fi; touch ${marker}; trap 'echo heard-term; exit 0' TERM; echo ready; sleep 30 & wait`;
    await runCli(['local/braced', 'push', '-c', cmd], { env });
    const worker = startCli(['local/braced', 'worker'], { env: { ...env, JOBQ_PREEMPTION_TIMEOUT: '2' } });
    await worker.waitForOutput(/^ready$/m);
    worker.signal('SIGTERM');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.equal(worker.count(/^heard-term$/gm), 1);
    assert.match(worker.output, /bracing for preemption[\s\S]*resuming work[\s\S]*^second-run$/m);
    assert.equal((await runCli(['local/braced', 'size'], { env })).stdout.trim(), '0');
  });

  it('SIGUSR1 drains: the running task finishes and is deleted, no new task starts, exit 0', async () => {
    await runCli(['local/draining', 'push', '-c', 'echo start-a; sleep 2; echo end-a', '-c', 'echo start-b'], { env });
    const worker = startCli(['local/draining', 'worker'], { env });
    await worker.waitForOutput(/^start-a$/m);
    worker.signal('SIGUSR1');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.stdout, /^end-a$/m);
    assert.doesNotMatch(worker.output, /start-b/, 'task b never started');
    const peek = await runCli(['local/draining', 'peek', '--json-lines', '-n', '10'], { env });
    assert.match(peek.stdout, /start-b/);
    assert.equal(peek.stdout.trim().split('\n').length, 1);
  });

  it('SIGUSR2 stops: the running task gets SIGTERM and is released, exit 0', async () => {
    await runCli(['local/downscaled', 'push', '-c', "trap 'echo stopping; exit 0' TERM; echo ready; sleep 30 & wait"], { env });
    const worker = startCli(['local/downscaled', 'worker'], { env });
    await worker.waitForOutput(/^ready$/m);
    worker.signal('SIGUSR2');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.stdout, /^stopping$/m);
    assert.equal((await runCli(['local/downscaled', 'size'], { env })).stdout.trim(), '1');
  });

  it('a task that ignores SIGTERM is killed after JOBQ_KILL_TIMEOUT and released', async () => {
    await runCli(['local/stubborn', 'push', '-c', "trap '' TERM; echo ready; sleep 61"], { env });
    const worker = startCli(['local/stubborn', 'worker'], { env: { ...env, JOBQ_KILL_TIMEOUT: '2' } });
    await worker.waitForOutput(/^ready$/m);
    const signalled = Date.now();
    worker.signal('SIGUSR2');
    const exit = await worker.exited;
    const took = Date.now() - signalled;
    assert.equal(exit.code, 0, worker.output);
    assert.ok(took >= 1_900, `killed after the kill timeout, not before (${took} ms)`);
    assert.deepEqual(pidsMatching('sleep 61'), []);
    assert.equal((await runCli(['local/stubborn', 'size'], { env })).stdout.trim(), '1');
  });

  it('escalation: a second SIGTERM skips the brace, a third SIGKILLs the stubborn task and exits at once', async () => {
    await runCli(['local/escalated', 'push', '-c', "trap '' TERM; echo ready; sleep 62"], { env });
    const worker = startCli(['local/escalated', 'worker'], { env: { ...env, JOBQ_PREEMPTION_TIMEOUT: '300' } });
    await worker.waitForOutput(/^ready$/m);
    worker.signal('SIGTERM');
    await worker.waitForOutput(/bracing for preemption/);
    worker.signal('SIGTERM');
    await worker.waitForOutput(/exiting as soon as running tasks are gone/);
    assert.equal(worker.child.exitCode, null, 'still waiting for the task');
    worker.signal('SIGINT');
    const exit = await worker.exited;
    assert.equal(exit.code, 143, worker.output);
    assert.match(worker.output, /third interrupt: killing running tasks/);
    await waitFor(() => pidsMatching('sleep 62').length === 0, {
      timeoutMs: 2_000,
      message: () => `sleep 62 survived: ${pidsMatching('sleep 62').join(', ')}`,
    });
    assert.equal((await runCli(['local/escalated', 'size'], { env })).stdout.trim(), '1');
    assert.equal((await runCli(['local/escalated', 'peek', '-n', '10'], { env })).stdout.trim().split('\n').length, 1, 'released, visible');
  });

  it('--emulate-tty runs the command under a terminal', async () => {
    await runCli(['local/terminal', 'push', '-c', 'test -t 1 && echo on-a-tty || echo not-a-tty'], { env });
    const plain = await runCli(['local/terminal', 'pull'], { env });
    assert.match(plain.stdout, /^not-a-tty$/m);
    await runCli(['local/terminal', 'push', '-c', 'test -t 1 && echo on-a-tty || echo not-a-tty'], { env });
    const tty = await runCli(['local/terminal', 'worker', '--emulate-tty'], { env });
    assert.equal(tty.code, 0, tty.stderr);
    assert.match(tty.stdout, /^on-a-tty\r?$/m);
  });

  it('a finished task leaves nothing behind: the worker moves on within 6 s', async () => {
    await runCli(['local/leftovers', 'push', '-c', 'sleep 1237 & echo started', '-c', 'echo next-task'], { env });
    const started = Date.now();
    const exit = await runCli(['local/leftovers', 'worker'], { env });
    assert.equal(exit.code, 0, exit.stderr);
    assert.ok(Date.now() - started < 6_000 + 2_000, 'moved on quickly');
    assert.match(exit.stdout, /^started\nnext-task\n$/);
    await waitFor(() => pidsMatching('sleep 1237').length === 0, { timeoutMs: 7_000, message: () => 'sleep 1237 survived' });
  });
});

/** Waits until a pattern has matched `count` times in the process's output. */
async function waitForCount(process: CliProcess, pattern: RegExp, count: number): Promise<void> {
  await waitFor(() => process.count(pattern) >= count, {
    timeoutMs: 30_000,
    message: () => `expected ${count} matches of ${pattern}:\n${process.output}`,
  });
}
