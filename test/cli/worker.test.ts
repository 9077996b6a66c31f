import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';

describe('jobq worker on a local queue (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = home.env;

  it('runs pushed commands and exits 0 when the queue is drained', async () => {
    const out = path.join(home.home, 'ran.txt');
    const push = await runCli(['local/three', 'push', '-c', `echo one >> ${out}`, '-c', `echo two >> ${out}`, '-c', `echo three >> ${out}`], { env });
    assert.equal(push.code, 0, push.stderr);
    assert.equal((await runCli(['local/three', 'size'], { env })).stdout.trim(), '3');
    const worker = await runCli(['local/three', 'worker', '-n', '2'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').sort(), ['one', 'three', 'two']);
    assert.equal((await runCli(['local/three', 'size'], { env })).stdout.trim(), '0');
  });

  it("tasks' stdout goes to stdout as written, their stderr to stderr tagged with a short id while several run", async () => {
    // Each task waits until both have started, and until both have written, so that two run at once meanwhile.
    const barrier = (name: string): string => {
      const file = path.join(home.home, name);
      return `echo x >> ${file}; while [ $(wc -l < ${file}) -lt 2 ]; do sleep 0.05; done`;
    };
    const task = (n: string): string => `${barrier('started')}; echo out-${n}; echo err-${n} >&2; ${barrier('wrote')}`;
    const push = await runCli(['local/routing', 'push', '-c', task('one'), '-c', task('two')], { env });
    assert.equal(push.code, 0, push.stderr);
    const worker = await runCli(['local/routing', 'worker', '-n', '2'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.deepEqual(worker.stdout.trim().split('\n').sort(), ['out-one', 'out-two'], 'stdout holds exactly the tasks\' stdout lines');
    assert.match(worker.stderr, /^\[[0-9a-f]{8}\] err-one$/m);
    assert.match(worker.stderr, /^\[[0-9a-f]{8}\] err-two$/m);
    assert.match(worker.stderr, /INFO: task [0-9a-f]{32} started: echo x >>/, 'the start line says what runs');
    // One at a time, nothing is tagged.
    await runCli(['local/single', 'push', '-c', 'echo alone >&2'], { env });
    const single = await runCli(['local/single', 'worker'], { env });
    assert.match(single.stderr, /^alone$/m);
  });

  it('-q quiets jobq, not the tasks', async () => {
    await runCli(['local/quiet', 'push', '-c', 'echo still-here; echo also-here >&2'], { env });
    const worker = await runCli(['local/quiet', 'worker', '-qq'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(worker.stdout, 'still-here\n');
    assert.equal(worker.stderr, 'also-here\n', 'no log line of jobq\'s own');
  });

  it('retries a failing task, dead-letters it with its exit code and output, and requeues it', async () => {
    const counter = path.join(home.home, 'attempts.txt');
    const cmd = `echo attempt >> ${counter}; echo some-output; exit 7`;
    assert.equal((await runCli(['local/failing', 'push', '--num-retries', '1', '-c', cmd], { env })).code, 0);
    const worker = await runCli(['local/failing', 'worker', '--max-consecutive-failures', '5'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(readFileSync(counter, 'utf8').trim().split('\n').length, 2, 'ran twice');
    assert.equal((await runCli(['local/failing', 'size'], { env })).stdout.trim(), '0');

    const list = await runCli(['local/failing', 'dlq', 'list', '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const records = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.['exit_code'], 7);
    assert.match(String(records[0]?.['error']), /exit code 7/);
    assert.deepEqual(records[0]?.['output'], ['some-output']);

    const requeue = await runCli(['local/failing', 'dlq', 'requeue'], { env });
    assert.equal(requeue.code, 0, requeue.stderr);
    assert.equal((await runCli(['local/failing', 'size'], { env })).stdout.trim(), '1');
    assert.equal((await runCli(['local/failing', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
    const peek = await runCli(['local/failing', 'peek', '--json-lines'], { env });
    assert.equal((JSON.parse(peek.stdout) as { kwargs: { cmd: string } }).kwargs.cmd, cmd);
  });

  it('two worker processes drain 200 tasks, each task run exactly once', async () => {
    const results = path.join(home.home, 'results.txt');
    const lines = Array.from({ length: 200 }, (_, i) => `echo ${i} >> ${results}`).join('\n');
    assert.equal((await runCli(['local/twohundred', 'push'], { env, input: lines })).code, 0);
    const workers = [startCli(['local/twohundred', 'worker', '-n', '2'], { env }), startCli(['local/twohundred', 'worker', '-n', '2'], { env })];
    const exits = await Promise.all(workers.map((w) => w.exited));
    for (const exit of exits) assert.equal(exit.code, 0, exit.stderr);
    const ran = readFileSync(results, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    assert.deepEqual(ran, Array.from({ length: 200 }, (_, i) => i));
    assert.ok(workers.every((w) => /succeeded/.test(w.stderr)), 'both workers ran');
  });

  it('stops with exit 1 after too many consecutive failures', async () => {
    await runCli(['local/crashing', 'push', '-c', 'exit 1', '-c', 'exit 1', '-c', 'exit 1', '-c', 'exit 1'], { env });
    const worker = await runCli(['local/crashing', 'worker', '--max-consecutive-failures', '1'], { env });
    assert.equal(worker.code, 1, worker.stderr);
    assert.equal((await runCli(['local/crashing', 'size'], { env })).stdout.trim(), '2', 'two tasks left untouched');
  });

  it('stops at the time limit with exit 0, releasing the running task', async () => {
    await runCli(['local/timelimit', 'push', '-c', 'sleep 30'], { env });
    const worker = await runCli(['local/timelimit', 'worker', '--time-limit', '2s'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stderr, /time limit/);
    assert.equal((await runCli(['local/timelimit', 'size'], { env })).stdout.trim(), '1');
  });

  it('exits 0 on an empty queue', async () => {
    const worker = await runCli(['local/nothing', 'worker'], { env });
    assert.equal(worker.code, 0, worker.stderr);
  });

  it('on SIGINT releases the running tasks and exits 130', async () => {
    const push = await runCli(['local/interrupted', 'push', '-c', 'echo started-a; sleep 30', '-c', 'echo started-b; sleep 30'], { env });
    assert.equal(push.code, 0, push.stderr);
    const worker = startCli(['local/interrupted', 'worker', '-n', '2'], { env });
    await worker.waitForOutput(/^started-a$[\s\S]*^started-b$|^started-b$[\s\S]*^started-a$/m);
    worker.signal('SIGINT');
    const exit = await worker.exited;
    assert.equal(exit.code, 130, exit.stderr);
    assert.equal((await runCli(['local/interrupted', 'size'], { env })).stdout.trim(), '2');
    const peek = await runCli(['local/interrupted', 'peek', '--json-lines', '-n', '10'], { env });
    assert.equal(peek.stdout.trim().split('\n').length, 2, 'both are visible again at once');
  });
  it('without the spawn addon (JOBQ_NO_NATIVE_SPAWN=1) runs tasks through child_process alike', async () => {
    const out = path.join(home.home, 'fallback.txt');
    // Which way the shell started shows in the signals it ignores: glibc's
    // posix_spawn (the addon) leaves its internal signals 32 and 33 ignored,
    // libuv's fork resets every one.
    const ok = `grep SigIgn /proc/self/status >> ${out}; echo fallback-output`;
    const failing = 'exit 7';
    assert.equal((await runCli(['local/fallback', 'push', '--num-retries', '0', '-c', ok, '-c', failing], { env })).code, 0);
    const worker = await runCli(['local/fallback', 'worker', '-n', '2', '--max-consecutive-failures', '5'], {
      env: { ...env, JOBQ_NO_NATIVE_SPAWN: '1' },
    });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /^fallback-output$/m);
    assert.match(readFileSync(out, 'utf8'), /^SigIgn:\s+0{16}\n$/);
    const list = await runCli(['local/fallback', 'dlq', 'list', '--json'], { env });
    assert.equal((JSON.parse(list.stdout.trim()) as { exit_code: number }).exit_code, 7);
  });
});
