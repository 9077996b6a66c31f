import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobQueue, pushTasks, UsageError, Worker } from '../../src/index.js';
import { createFunctionProcessor } from '../../src/processors/function/function.js';
import type { Processor, RunningTask, TaskOutcome } from '../../src/processors/processor.js';
import { createTask, type Kwargs, type Task } from '../../src/task/task.js';
import { CliProcess } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'functions');
const tasksModule = path.join(fixtures, 'tasks.js');
const deadlineMs = 30_000;

interface Started {
  readonly task: Task;
  readonly running: RunningTask;
  readonly lines: string[];
  /** Whether the processor has said the task started. */
  readonly hasStarted: () => boolean;
}

function start(processor: Processor, kwargs: Kwargs = {}): Started {
  const task = createTask(kwargs, { deterministicId: false });
  const lines: string[] = [];
  let started = false;
  const running = processor.start({
    task,
    queueName: 'test',
    log: (line) => lines.push(line),
    started: () => {
      assert.equal(started, false, 'started twice');
      started = true;
    },
  });
  return { task, running, lines, hasStarted: () => started };
}

/** The task's outcome, failing the test if it takes longer than the deadline. */
async function outcomeOf(running: RunningTask, ms = deadlineMs): Promise<TaskOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the task did not end within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([running.done, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `done` is still pending once everything already queued has run. */
async function isPending(running: RunningTask): Promise<boolean> {
  const pending = Symbol('pending');
  const value = await Promise.race([running.done, new Promise((resolve) => setImmediate(() => resolve(pending)))]);
  return value === pending;
}

/** Stops a `waitsForStop` task that has started: it checkpoints and returns. */
async function stopsWithCheckpoint(started: Started): Promise<void> {
  started.running.stop();
  assert.deepEqual(await outcomeOf(started.running), { ok: true, result: 'checkpointed' });
}

async function waitForLine(started: Started, line: string): Promise<void> {
  await waitFor(() => started.lines.includes(line), {
    timeoutMs: deadlineMs,
    message: () => `no line "${line}" in ${JSON.stringify(started.lines)}`,
  });
}

describe('function processor', () => {
  it('returns the function result, by default export, with the module spec as its name', async () => {
    const processor = await createFunctionProcessor({ module: path.join(fixtures, 'add.js'), numWorkers: 2 });
    try {
      assert.equal(processor.name, path.join(fixtures, 'add.js'));
      const outcome = await outcomeOf(start(processor, { a: 2, b: 3 }).running);
      assert.deepEqual(outcome, { ok: true, result: { sum: 5 } });
    } finally {
      await processor.close();
    }
  });

  it('resolves PATH against the current directory', async () => {
    const relative = path.relative(process.cwd(), path.join(fixtures, 'add.js'));
    const processor = await createFunctionProcessor({ module: relative, numWorkers: 1 });
    try {
      assert.deepEqual(await outcomeOf(start(processor, { a: 1, b: 1 }).running), { ok: true, result: { sum: 2 } });
    } finally {
      await processor.close();
    }
  });

  describe('with named exports', () => {
    const processors: Processor[] = [];
    after(() => Promise.all(processors.map((processor) => processor.close())));
    async function open(name: string, numWorkers = 2): Promise<Processor> {
      const processor = await createFunctionProcessor({ module: `${tasksModule}#${name}`, numWorkers });
      processors.push(processor);
      return processor;
    }

    it('turns a throw into a failure with the message and the stack', async () => {
      const outcome = await outcomeOf(start(await open('fails')).running);
      assert.equal(outcome.ok, false);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, 'bad input: b is missing');
      assert.match(outcome.detail ?? '', /^Error: bad input: b is missing\n\s+at fails \(.*tasks\.js/);
    });

    it('reports a function that returns nothing as a success with no result, after its log lines', async () => {
      const processor = await open('logsAndReturnsNothing', 1);
      for (const round of [1, 2]) {
        // The second task runs on the same thread: its report is its own.
        const started = start(processor);
        assert.deepEqual(await outcomeOf(started.running), { ok: true, result: undefined }, `task ${round}`);
        assert.deepEqual(started.lines, ['before the end'], `task ${round}`);
      }
    });

    it('delivers ctx.log lines in order before done', async () => {
      const started = start(await open('logs'));
      const outcome = await outcomeOf(started.running);
      assert.deepEqual(outcome, { ok: true, result: 'logged' });
      assert.deepEqual(started.lines, ['first 1 { x: 1 }', 'second', 'two', 'lines']);
    });

    it('gives the task id as ctx.taskId', async () => {
      const started = start(await open('taskId'));
      assert.deepEqual(await outcomeOf(started.running), { ok: true, result: started.task.id });
    });

    it('passes a class instance as plain data', async () => {
      assert.deepEqual(await outcomeOf(start(await open('classInstance')).running), { ok: true, result: { x: 3, y: 4 } });
    });

    it('fails clearly on a result that cannot be cloned', async () => {
      const processor = await open('notCloneable', 1);
      const outcome = await outcomeOf(start(processor).running);
      assert.ok(!outcome.ok);
      assert.match(outcome.error, /^result is not structured-cloneable: /);
      // The thread survived it.
      assert.deepEqual(await outcomeOf(start(processor).running), outcome);
    });

    it('fires ctx.signal on stop(); done resolves with what the function returns', async () => {
      const started = start(await open('waitsForStop'));
      await waitForLine(started, 'waiting');
      assert.ok(await isPending(started.running));
      started.running.stop();
      await stopsWithCheckpoint(started);
    });

    it('fires ctx.signal on stop(); a function may answer it by throwing', async () => {
      const started = start(await open('abortsOnStop'));
      await waitForLine(started, 'waiting');
      started.running.stop();
      const outcome = await outcomeOf(started.running);
      assert.ok(!outcome.ok);
      assert.equal(outcome.error, 'This operation was aborted');
      assert.match(outcome.detail ?? '', /^AbortError/);
    });

    it('runs no task stopped before it started, waiting in the thread or in the pool', async () => {
      const processor = await open('waitsForStop', 1);
      const all = Array.from({ length: 4 }, () => start(processor));
      assert.deepEqual(all.map((started) => started.hasStarted()), [true, false, false, false]);
      for (const started of all) started.running.stop();
      const [first, ...rest] = all;
      assert.deepEqual(await outcomeOf(first!.running), { ok: true, result: 'checkpointed' });
      for (const started of rest) {
        assert.deepEqual(await outcomeOf(started.running), { ok: false, error: 'stopped before it started' });
        assert.equal(started.hasStarted(), false);
        assert.deepEqual(started.lines, []);
      }
    });

    it('hands a busy thread its next task ahead; it starts once the one before it has reported', async () => {
      const processor = await open('waitsForStop', 1);
      const first = start(processor);
      const next = start(processor);
      await waitForLine(first, 'waiting');
      assert.ok(await isPending(next.running));
      assert.equal(next.hasStarted(), false);
      await stopsWithCheckpoint(first);
      await waitForLine(next, 'waiting');
      assert.equal(next.hasStarted(), true);
      await stopsWithCheckpoint(next);
    });

    it('takes back a task waiting behind a long one and runs it on the thread that is free', async () => {
      const processor = await open('waitsForStop', 2);
      const long = start(processor);
      await waitForLine(long, 'waiting');
      // Long enough that no task waits ahead behind it (a task waits only behind a short one).
      const since = performance.now();
      await waitFor(() => performance.now() - since > 100, { timeoutMs: deadlineMs, message: () => 'no time passed' });
      const fresh = start(processor);
      const ahead = start(processor);
      await waitForLine(fresh, 'waiting');
      assert.equal(ahead.hasStarted(), false, 'it waits ahead behind the fresh task');
      await stopsWithCheckpoint(long);
      // The fresh task runs on: the one behind it comes back and starts on the free thread.
      await waitForLine(ahead, 'waiting');
      assert.ok(await isPending(fresh.running));
      await stopsWithCheckpoint(fresh);
      await stopsWithCheckpoint(ahead);
    });

    it('kills a function that ignores the stop; the pool goes on', async () => {
      const processor = await open('ignoresStop', 1);
      const started = start(processor);
      await waitForLine(started, 'running');
      started.running.stop();
      await waitForLine(started, 'stop heard, ignored');
      assert.ok(await isPending(started.running), 'stop() alone does not end it');
      started.running.kill();
      started.running.kill();
      assert.deepEqual(await outcomeOf(started.running), { ok: false, error: 'killed' });

      const next = start(processor);
      await waitForLine(next, 'running');
      next.running.kill();
      assert.deepEqual(await outcomeOf(next.running), { ok: false, error: 'killed' });
    });

    it('kills a thread stuck in a busy loop, and the next task runs', async () => {
      const processor = await createFunctionProcessor({ module: `${tasksModule}#spins`, numWorkers: 1 });
      processors.push(processor);
      const started = start(processor);
      await waitForLine(started, 'spinning');
      started.running.stop();
      assert.ok(await isPending(started.running));
      started.running.kill();
      assert.deepEqual(await outcomeOf(started.running), { ok: false, error: 'killed' });
      const next = start(processor);
      await waitForLine(next, 'spinning');
      next.running.kill();
      assert.deepEqual(await outcomeOf(next.running), { ok: false, error: 'killed' });
    });

    it('kills a task still waiting in the pool', async () => {
      const processor = await open('ignoresStop', 1);
      const first = start(processor);
      const queued = start(processor);
      queued.running.kill();
      assert.deepEqual(await outcomeOf(queued.running), { ok: false, error: 'killed' });
      await waitForLine(first, 'running');
      first.running.kill();
      assert.deepEqual(await outcomeOf(first.running), { ok: false, error: 'killed' });
      assert.deepEqual(queued.lines, []);
    });
  });

  describe('a thread that fails', () => {
    const warnings: string[] = [];
    let processor: Processor;
    before(async () => {
      processor = await createFunctionProcessor({
        module: `${tasksModule}#misbehaves`,
        numWorkers: 1,
        warn: (message) => warnings.push(message),
      });
    });
    after(() => processor.close());

    async function runs(how?: string): Promise<TaskOutcome> {
      return outcomeOf(start(processor, how === undefined ? {} : { how }).running);
    }

    it('by exiting fails its task; a new thread runs the next', async () => {
      assert.deepEqual(await runs('exit'), { ok: false, error: "the task's thread exited with code 3" });
      assert.deepEqual(await runs(), { ok: true, result: 'fine' });
    });

    it('by exiting fails its task; the task waiting ahead in it runs on the new thread', async () => {
      const dies = start(processor, { how: 'exit' });
      const next = start(processor);
      assert.equal(next.hasStarted(), false);
      assert.deepEqual(await outcomeOf(dies.running), { ok: false, error: "the task's thread exited with code 3" });
      assert.deepEqual(await outcomeOf(next.running), { ok: true, result: 'fine' });
      assert.equal(next.hasStarted(), true);
    });

    it('by an error thrown outside the task promise fails its task; a new thread runs the next', async () => {
      assert.deepEqual(await runs('throw-from-timer'), { ok: false, error: "the task's thread failed: thrown from a timer" });
      assert.deepEqual(await runs(), { ok: true, result: 'fine' });
    });

    it('outside any task is reported and replaced; the task that returned keeps its outcome', async () => {
      assert.deepEqual(await runs('throw-after-return'), { ok: true, result: 'fine' });
      await waitFor(() => warnings.length > 0, { timeoutMs: deadlineMs, message: () => 'no warning' });
      assert.deepEqual(warnings, ['a function thread failed outside any task and was replaced: thrown after the task returned']);
      assert.deepEqual(await runs(), { ok: true, result: 'fine' });
    });
  });

  /** Runs a fixture script as a process of its own; one still running after 60 s is SIGKILLed and fails the test. */
  async function runFixture(file: string, ...args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
    const run = new CliProcess(spawn(process.execPath, [path.join(fixtures, file), ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const { code, signal } = await run.exitedWithin(60_000, () => `${file} did not exit by itself: ${run.output}`);
    return { code, signal, output: run.output };
  }

  it('keeps the process alive until every done has resolved', async () => {
    // 5,000 tasks on 4 threads caught a task whose `ended` message was still
    // in flight when piscina had already unref'd its thread (exit code 13).
    const { code, output } = await runFixture('await-tasks.js', '5000', '4');
    assert.equal(code, 0, output);
    assert.equal(output.trim(), 'succeeded 5000');
  });

  it('lets the process exit once closed while its threads run tasks', async () => {
    const { code, signal, output } = await runFixture('close-while-running.js');
    assert.equal(signal, null, `the process did not exit by itself: ${output}`);
    assert.equal(code, 0, output);
    const closed = "the task's thread failed: the function processor was closed";
    assert.deepEqual(output.trim().split('\n'), [closed, closed]);
  });

  describe('refuses a bad module with a UsageError', () => {
    async function refusal(module: string): Promise<string> {
      const err: unknown = await createFunctionProcessor({ module, numWorkers: 1 }).then(
        async (processor) => {
          await processor.close();
          assert.fail(`${module} was accepted`);
        },
        (rejection: unknown) => rejection,
      );
      assert.ok(err instanceof UsageError, String(err));
      assert.doesNotMatch(err.message, /\n/);
      return err.message;
    }

    it('a missing file', async () => {
      const missing = path.join(fixtures, 'missing.js');
      assert.equal(await refusal(missing), `function module ${missing}: file not found`);
    });

    it('a file that is not a module', async () => {
      const file = path.join(fixtures, 'not-a-module.js');
      assert.match(await refusal(file), new RegExp(`^function module ${file}: not a module that can be imported: `));
    });

    it('a missing export', async () => {
      assert.equal(await refusal(`${tasksModule}#nope`), `function module ${tasksModule}: no export "nope"`);
      assert.match(await refusal(tasksModule), /no export "default"; name one with PATH#exportName$/);
    });

    it('an export that is not a function', async () => {
      assert.equal(
        await refusal(`${tasksModule}#notAFunction`),
        `function module ${tasksModule}: export "notAFunction" is not a function (it is a number)`,
      );
    });

    it('a pool size that is not a positive integer', async () => {
      const err: unknown = await createFunctionProcessor({ module: tasksModule, numWorkers: 0 }).catch((e: unknown) => e);
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, 'numWorkers must be an integer of at least 1, got 0');
    });

    it('an empty export name', async () => {
      assert.match(await refusal(`${tasksModule}#`), /expected PATH or PATH#exportName/);
    });
  });
});

describe('a worker running function tasks', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'jobq-function-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  it('runs 1,000 tasks on 4 threads, each exactly once', async (t) => {
    const queue = await JobQueue.open('local/functions', { env: { ...process.env, JOBQ_HOME: home } });
    const processor = await createFunctionProcessor({ module: path.join(fixtures, 'add.js'), numWorkers: 4 });
    try {
      const count = 1000;
      await pushTasks(
        queue,
        Array.from({ length: count }, (_, i) => ({ a: i, b: 1 })),
      );
      const startedAt = performance.now();
      const result = await new Worker(queue, processor, { numWorkers: 4, controlIntervalMs: 0 }).run();
      const seconds = (performance.now() - startedAt) / 1000;
      t.diagnostic(`${count} tasks in ${seconds.toFixed(2)} s (${Math.round(count / seconds)} tasks/s)`);
      assert.equal(result.exitCode, 0);
      assert.equal(result.reason, 'drained');
      assert.equal(result.leased, count);
      assert.deepEqual(result.stats, {
        succeeded: count,
        failed: 0,
        retried: 0,
        deadLettered: 0,
        deliveryLimit: 0,
        released: 0,
        leaseLost: 0,
        invalid: 0,
        unsettled: 0,
      });
      assert.equal(await queue.size(), 0);
    } finally {
      await processor.close();
      await queue.close();
    }
  });

  it('puts back the tasks waiting ahead when it stops: unrun, with no history record', async () => {
    const queue = await JobQueue.open('local/ahead', { env: { ...process.env, JOBQ_HOME: home } });
    const processor = await createFunctionProcessor({ module: `${tasksModule}#waitsForStop`, numWorkers: 1 });
    try {
      await pushTasks(queue, [{ n: 1 }, { n: 2 }, { n: 3 }]);
      const lines: string[] = [];
      const sink = { write: (text: string) => lines.push(text) };
      const worker = new Worker(queue, processor, { numWorkers: 1, controlIntervalMs: 0, taskOutput: { stdout: sink, stderr: sink } });
      const result = worker.run();
      await waitFor(() => lines.some((line) => line.includes('waiting')), { timeoutMs: deadlineMs, message: () => 'no task started' });
      assert.equal(worker.runningCount, 1);
      worker.stop();
      const { stats } = await result;
      // The running task checkpointed and was released; those waiting ahead never ran.
      assert.equal(stats.released, 3);
      assert.equal(lines.filter((line) => line.includes('waiting')).length, 1);
      await queue.fleet.flushHistory();
      assert.deepEqual((await queue.fleet.attempts({ limit: 10 })).map((attempt) => attempt.outcome), ['released']);
      assert.equal(await queue.size(), 3);
    } finally {
      await processor.close();
      await queue.close();
    }
  });
});
