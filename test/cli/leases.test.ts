import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

describe('leases across worker processes (CLI)', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  it('a task whose worker is SIGKILLed reappears after the visibility timeout and another worker runs it', async () => {
    const attempts = path.join(home.home, 'attempts');
    const cmd = `echo attempt >> ${attempts}; if [ "$(wc -l < ${attempts})" -eq 1 ]; then echo first-run; exec sleep 1402; fi; echo second-run`;
    await runCli(['local/orphaned', 'push', '-c', cmd], { env });
    const doomed = startCli(['local/orphaned', 'worker', '--visibility-timeout', '3s'], { env });
    await doomed.waitForOutput(/^first-run$/m);
    doomed.signal('SIGKILL');
    await doomed.exited;
    const rescuer = await runCli(['local/orphaned', 'worker', '--visibility-timeout', '3s'], { env });
    assert.equal(rescuer.code, 0, rescuer.stderr);
    assert.match(rescuer.stdout, /^second-run$/m);
    assert.equal(readFileSync(attempts, 'utf8').trim().split('\n').length, 2);
    assert.equal((await runCli(['local/orphaned', 'size'], { env })).stdout.trim(), '0');
  });

  it('a task whose lease is stolen is stopped on that worker and neither settled nor counted as a failure', async () => {
    const cmd = "trap 'echo heard-term; exit 0' TERM; echo ready; sleep 30 & wait";
    await runCli(['local/stolen', 'push', '-c', cmd, '-c', 'echo other-task'], { env });
    const worker = startCli(['local/stolen', 'worker', '--visibility-timeout', '2s', '--max-consecutive-failures', '0'], { env });
    await worker.waitForOutput(/^ready$/m);
    // Steal the lease as another worker would after it expired: a new token on the running message.
    const db = new Database(path.join(home.home, 'jobq.db'));
    try {
      const changed = db
        .prepare("UPDATE messages SET token = 'stolen', visible_at = ? WHERE queue = 'stolen' AND body LIKE '%heard-term%'")
        .run(Date.now() + 60_000).changes;
      assert.equal(changed, 1);
    } finally {
      db.close();
    }
    await worker.waitForOutput(/lost its lease/);
    await worker.waitForOutput(/^other-task$/m);
    // The stolen task is still leased (by the thief), so the worker waits for it; stop it.
    worker.signal('SIGUSR2');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.stdout, /^heard-term$/m);
    assert.doesNotMatch(worker.output, /task \w+ failed/);
    assert.match(worker.output, /1 succeeded, 0 failed/);
    assert.equal((await runCli(['local/stolen', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
    // The thief still holds it: the message was not deleted or released.
    assert.equal((await runCli(['local/stolen', 'size'], { env })).stdout.trim(), '1');
  });

  it('jobq downscale --nodes 1 stops exactly one of two workers; the other keeps working', async () => {
    const tasks = Array.from({ length: 30 }, (_, i) => `sleep 0.2; echo task-${i}`).join('\n');
    await runCli(['local/scaled', 'push'], { env, input: tasks });
    const fast = { ...env, JOBQ_CONTROL_INTERVAL: '1' };
    const workers = [startCli(['local/scaled', 'worker'], { env: fast }), startCli(['local/scaled', 'worker'], { env: fast })];
    await Promise.all(workers.map((w) => w.waitForOutput(/^task-\d+$/m)));
    const downscale = await runCli(['local/scaled', 'downscale', '--nodes', '1'], { env });
    assert.equal(downscale.code, 0, downscale.stderr);
    const first = await Promise.race(workers.map((w, index) => w.exited.then(() => index)));
    const stopped = workers[first]!;
    const other = workers[1 - first]!;
    assert.equal((await stopped.exited).code, 0);
    assert.match(stopped.output, /control message: stop/);
    const doneBefore = other.count(/succeeded/g);
    await waitFor(() => other.count(/succeeded/g) > doneBefore + 2, { timeoutMs: 20_000 });
    const exit = await other.exited;
    assert.equal(exit.code, 0);
    assert.doesNotMatch(other.output, /control message/);
    assert.equal((await runCli(['local/scaled', 'size'], { env })).stdout.trim(), '0');
  });

  it('jobq signal drain reaches every worker of the queue through its PID file', async () => {
    // The first task runs until the test lets it end, so that the drain surely comes while it runs.
    const go = path.join(home.home, 'drain-go');
    const cmd = `echo drain-task-started; while [ ! -e ${go} ]; do sleep 0.05; done; echo drain-task-ended`;
    await runCli(['local/signalled', 'push', '-c', cmd, '-c', 'echo never'], { env });
    const worker = startCli(['local/signalled', 'worker'], { env });
    await worker.waitForOutput(/^drain-task-started$/m);
    const pid = String(worker.child.pid);
    const pidDir = path.join(home.home, 'pids', 'signalled');
    await waitFor(() => existsSync(pidDir) && readdirSync(pidDir).some((file) => file.startsWith(pid)), {
      message: () => `no PID file for ${pid} in ${pidDir}`,
    });
    const signal = await runCli(['local/signalled', 'signal', 'drain'], { env });
    assert.equal(signal.code, 0, signal.stderr);
    assert.match(signal.stderr, new RegExp(`sent SIGUSR1 to 1 worker\\(s\\): ${pid}`));
    await worker.waitForOutput(/SIGUSR1/);
    writeFileSync(go, '');
    const exit = await worker.exited;
    assert.equal(exit.code, 0);
    assert.match(worker.stdout, /^drain-task-ended$/m);
    assert.doesNotMatch(worker.output, /never/, 'the second task never started');
    const again = await runCli(['local/signalled', 'signal', 'drain'], { env });
    assert.match(again.stderr, /sent SIGUSR1 to 0 worker/, 'the PID file is gone with the worker');
  });
});
