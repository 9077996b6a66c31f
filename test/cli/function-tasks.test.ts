import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const tasks = path.join(fixturesDir, 'functions', 'cli-tasks.js');

describe('function tasks through the CLI', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  it('10,000 tasks at -n 4: push --wait records every result exactly once', async () => {
    const input = Array.from({ length: 10_000 }, (_, n) => JSON.stringify({ n })).join('\n');
    const producer = startCli(['local/squares', 'push', '--wait'], { env, input });
    await producer.waitForOutput(/enqueued 10000 task/);
    const worker = await runCli(['local/squares', 'worker', '--proc', `${tasks}#square`, '-n', '4'], { env });
    assert.equal(worker.code, 0, worker.stderr.slice(-2000));
    assert.match(worker.stderr, /10000 succeeded, 0 failed/);
    const exit = await producer.exited;
    assert.equal(exit.code, 0, exit.stderr);
    const results = exit.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; ok: boolean; result: { n: number; square: number } });
    assert.equal(results.length, 10_000);
    assert.equal(new Set(results.map((r) => r.id)).size, 10_000, 'each task once');
    const seen = results.map((r) => r.result.n).sort((a, b) => a - b);
    assert.deepEqual(seen, Array.from({ length: 10_000 }, (_, n) => n));
    assert.ok(results.every((r) => r.ok && r.result.square === r.result.n ** 2));
    assert.equal((await runCli(['local/squares', 'size'], { env })).stdout.trim(), '0');
  });

  it('a throwing function with --num-retries 2 runs three times, then sits in the dead-letter queue with its error', async () => {
    const counter = path.join(home.home, 'fn-attempts');
    const push = await runCli(['local/fnfail', 'push', '--num-retries', '2'], { env, input: JSON.stringify({ counter }) });
    assert.equal(push.code, 0, push.stderr);
    const worker = await runCli(['local/fnfail', 'worker', '--proc', `${tasks}#failsCounting`, '--max-consecutive-failures', '5'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(readFileSync(counter, 'utf8').trim().split('\n').length, 3);
    const record = JSON.parse((await runCli(['local/fnfail', 'dlq', 'list', '--json'], { env })).stdout) as { error: string; output: string[] };
    assert.match(record.error, /^the input is bad\n.*Error: the input is bad/s);
    assert.deepEqual(record.output, ['about to fail']);
  });

  it('a function that checks ctx.signal checkpoints on SIGTERM and is released', async () => {
    await runCli(['local/fncheckpoint', 'push'], { env, input: '{"job": 1}\n' });
    const worker = startCli(['local/fncheckpoint', 'worker', '--proc', `${tasks}#checkpoints`], {
      env: { ...env, JOBQ_PREEMPTION_TIMEOUT: '600' },
    });
    await worker.waitForOutput(/^ready$/m);
    worker.signal('SIGTERM');
    await worker.waitForOutput(/goes back to the queue/);
    worker.signal('SIGTERM'); // skip the brace
    const exit = await worker.exited;
    assert.equal(exit.code, 143, worker.output);
    assert.match(worker.output, /checkpointed/);
    assert.equal((await runCli(['local/fncheckpoint', 'size'], { env })).stdout.trim(), '1');
  });

  it('on SIGTERM, tasks leased ahead and not started go back to the queue at once, while the worker braces', async () => {
    // Quick tasks make the worker lease ahead; the held ones then fill both slots and the lease buffer.
    const quick = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ i }));
    const held = Array.from({ length: 50 }, (_, i) => JSON.stringify({ hold: true, i }));
    assert.equal((await runCli(['local/fnahead', 'push'], { env, input: [...quick, ...held].join('\n') })).code, 0);
    const worker = startCli(['local/fnahead', 'worker', '--proc', `${tasks}#quickOrHeld`, '-n', '2'], {
      env: { ...env, JOBQ_PREEMPTION_TIMEOUT: '600' },
    });
    await worker.waitForOutput(/^holding[\s\S]*^holding/m);
    worker.signal('SIGTERM');
    await worker.waitForOutput(/released [1-9]\d* leased task\(s\) that had not started/);
    await worker.waitForOutput(/goes back to the queue[\s\S]*goes back to the queue/);
    const visible = async (): Promise<number> =>
      (await runCli(['local/fnahead', 'peek', '-n', '1000', '--json-lines'], { env })).stdout.trim().split('\n').length;
    await waitFor(async () => (await visible()) === 50, { message: () => 'the held tasks did not all come back' });
    assert.equal(worker.child.exitCode, null, 'while the worker still braces (its leases last 10 minutes)');
    worker.signal('SIGTERM'); // skip the brace
    const exit = await worker.exited;
    assert.equal(exit.code, 143, worker.output.slice(-2000));
    assert.match(worker.output, /2000 succeeded, 0 failed/);
  });

  it('a function that ignores the stop is terminated after the kill timeout and released; the worker survives', async () => {
    await runCli(['local/fnstubborn', 'push'], { env, input: '{"job": 2}\n' });
    const worker = startCli(['local/fnstubborn', 'worker', '--proc', `${tasks}#stubborn`], { env: { ...env, JOBQ_KILL_TIMEOUT: '2' } });
    await worker.waitForOutput(/^ready$/m);
    worker.signal('SIGUSR2');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.output, /ignoring the stop/);
    assert.match(worker.output, /goes back to the queue/);
    assert.equal((await runCli(['local/fnstubborn', 'size'], { env })).stdout.trim(), '1');
  });

  it('push --wait prints each result as its task completes', async () => {
    const input = [JSON.stringify({ ms: 10, label: 'quick' }), JSON.stringify({ ms: 3000, label: 'slow' })].join('\n');
    const producer = startCli(['local/staggered', 'push', '--wait'], { env, input });
    await producer.waitForOutput(/enqueued 2 task/);
    const worker = startCli(['local/staggered', 'worker', '--proc', `${tasks}#slow`, '-n', '2'], { env });
    await producer.waitForOutput(/"result":"quick"/);
    assert.doesNotMatch(producer.stdout, /"slow"/, 'the quick result came first, alone');
    assert.equal(worker.child.exitCode, null, 'while the slow task still runs');
    const [produced, worked] = await Promise.all([producer.exited, worker.exited]);
    assert.equal(worked.code, 0);
    assert.equal(produced.code, 0);
    assert.match(produced.stdout, /"result":"slow"/);
  });
});
