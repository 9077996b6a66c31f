/**
 * A worker's close(): idempotent, every cleanup step run even when one fails
 * (failures in one AggregateError), and process signal handlers kept until
 * the process has nothing left to do, so that a late signal's default action
 * never kills a worker that is finishing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Worker } from '../../src/api/worker.js';
import { createLogger } from '../../src/log/logger.js';
import type { Processor } from '../../src/processors/processor.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { createTask } from '../../src/task/task.js';
import { CliProcess } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger(lines: string[]): ReturnType<typeof createLogger> {
  return createLogger({
    format: 'json',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        callback();
      },
    }),
  });
}

describe('worker close()', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'jobq-close-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('is idempotent, runs every step though one fails, and reports the failure in an AggregateError', async () => {
    const queue = await JobQueue.open('local/closing', { env: { JOBQ_HOME: home } });
    let closes = 0;
    const processor: Processor = {
      name: 'failing-close',
      start: () => ({ done: Promise.resolve({ ok: true }), stop() {}, kill() {} }),
      close: () => {
        closes += 1;
        return Promise.reject(new Error('the pool would not shut down'));
      },
    };
    const lines: string[] = [];
    const worker = new Worker(queue, processor, {
      whenIdle: 'poll',
      controlIntervalMs: 0,
      handleSignals: true,
      closeProcessor: true,
      logger: capturingLogger(lines),
    });
    const run = worker.run();
    await waitFor(() => lines.some((line) => line.includes('"worker_start"')));
    const first = worker.close();
    assert.equal(worker.close(), first, 'the same promise every time');
    await assert.rejects(first, (err: unknown) => {
      assert.ok(err instanceof AggregateError);
      assert.match(err.message, /failing-close processor: the pool would not shut down/);
      return true;
    });
    await assert.rejects(run, AggregateError, 'run() reports what close() could not do');
    assert.equal(closes, 1);
    // The step after the failing one ran: the signal handlers no longer forward.
    process.emit('SIGUSR2');
    assert.equal(lines.filter((line) => line.includes('"received SIGUSR2"') || line.includes('"signal"')).length, 0);
    await assert.rejects(worker.run(), AggregateError, 'a closed worker does not run again');
    await queue.close();
  });

  it('a worker that has drained keeps "drained" as its reason when closed again', async () => {
    const queue = await JobQueue.open('local/drained', { env: { JOBQ_HOME: home } });
    await queue.push([createTask({ n: 1 })]);
    const processor: Processor = {
      name: 'ok',
      start: () => ({ done: Promise.resolve({ ok: true }), stop() {}, kill() {} }),
      close: () => Promise.resolve(),
    };
    const worker = new Worker(queue, processor, { controlIntervalMs: 0 });
    const result = await worker.run();
    await worker.close();
    assert.equal(result.reason, 'drained');
    assert.equal(result.stats.succeeded, 1);
    await queue.close();
  });

  it('signal handlers stay until the process exits: SIGTERMs during and after cleanup never kill it', async () => {
    const queue = await JobQueue.open('local/slowclose', { env: { JOBQ_HOME: home } });
    await queue.push([createTask({ n: 1 })]);
    await queue.close();
    const child = new CliProcess(
      spawn(process.execPath, [path.join(fixturesDir, 'workers', 'slow-close.js'), 'local/slowclose'], {
        env: { ...process.env, JOBQ_HOME: home },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const pid = child.child.pid ?? assert.fail('no pid');
    await waitFor(() => child.stdout.includes('started'), { message: () => child.output });
    process.kill(pid, 'SIGUSR1');
    await waitFor(() => child.stdout.includes('closing'), { message: () => child.output });
    // During cleanup: forwarded to the broker (a second stop) and logged, not fatal.
    process.kill(pid, 'SIGTERM');
    await waitFor(() => child.stderr.includes('"signal":"SIGTERM"'), { message: () => child.output });
    child.child.stdin?.write('go on\n');
    await waitFor(() => child.stdout.includes('result '), { message: () => child.output });
    // After run() has returned, while the process still has work: ignored.
    process.kill(pid, 'SIGTERM');
    process.kill(pid, 'SIGINT');
    child.child.stdin?.end('exit\n');
    const exit = await child.exited;
    assert.equal(exit.signal, null, `killed by ${exit.signal}: ${child.output}`);
    const reported = /result (\d+)/.exec(child.stdout)?.[1];
    assert.equal(String(exit.code), reported, 'the exit code is the worker\'s');
  });
});
