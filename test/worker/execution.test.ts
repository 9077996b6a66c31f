/**
 * TaskExecution without processes: a scripted processor stands in for the
 * task (the test decides how and when it ends) and a real SQLite queue
 * shows what each settlement wrote.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/log/logger.js';
import { discardOutput } from '../../src/log/task-output.js';
import type { Processor, RunningTask, TaskContext, TaskOutcome } from '../../src/processors/processor.js';
import { JobQueue, type LeasedMessage } from '../../src/queue/job-queue.js';
import { createTask, type Task } from '../../src/task/task.js';
import { ActiveTasks } from '../../src/worker/active-tasks.js';
import { TaskExecution } from '../../src/worker/execution.js';
import { LeaseKeeper } from '../../src/worker/lease-keeper.js';
import { insertRawMessages } from '../helpers/local-store.js';
import { waitFor, waitForValue } from '../helpers/wait.js';

/** A task the test ends by hand, recording the stops and kills it got. */
class ScriptedTask implements RunningTask {
  readonly done: Promise<TaskOutcome>;
  stops = 0;
  kills = 0;
  finish!: (outcome: TaskOutcome) => void;

  constructor(readonly context: TaskContext) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  stop(): void {
    this.stops += 1;
  }

  kill(): void {
    this.kills += 1;
  }
}

function scriptedProcessor(): { processor: Processor; started: ScriptedTask[] } {
  const started: ScriptedTask[] = [];
  const processor: Processor = {
    name: 'scripted',
    start(context) {
      const task = new ScriptedTask(context);
      started.push(task);
      return task;
    },
    close: () => Promise.resolve(),
  };
  return { processor, started };
}

describe('task execution', () => {
  let home: string;
  let counter = 0;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'jobq-execution-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  /** A queue of its own with one task (or raw bodies), leased. */
  async function leased(task: Task | string, visibilityMs = 60_000): Promise<{ queue: JobQueue; message: LeasedMessage }> {
    counter += 1;
    const name = `exec-${counter}`;
    const queue = await JobQueue.open(`local/${name}`, { env: { JOBQ_HOME: home } });
    if (typeof task === 'string') insertRawMessages(home, name, [task]);
    else await queue.push([task]);
    const [message] = await queue.lease(1, visibilityMs);
    assert.ok(message, 'the message was leased');
    return { queue, message };
  }

  function execution(
    queue: JobQueue,
    message: LeasedMessage,
    processor: Processor,
    options: { killTimeoutMs?: number; maxDeliveries?: number; keeper?: LeaseKeeper } = {},
  ): TaskExecution {
    return new TaskExecution(
      { message, keeper: options.keeper },
      {
        queue,
        processor,
        options: { killTimeoutMs: options.killTimeoutMs ?? 60_000, maxDeliveries: options.maxDeliveries ?? 20 },
        logger: silentLogger(),
        output: discardOutput,
        describeWidth: 200,
        active: new ActiveTasks(),
        attempts: undefined,
      },
    );
  }

  /** The scripted task once it has started. */
  async function startedTask(started: ScriptedTask[]): Promise<ScriptedTask> {
    await waitFor(() => started.length === 1, { message: () => 'the task never started' });
    return started[0] as ScriptedTask;
  }

  it('success: decided before it is written, then the message is deleted', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'ok' }));
    const { processor, started } = scriptedProcessor();
    const run = execution(queue, message, processor);
    const written = run.execute();
    (await startedTask(started)).finish({ ok: true });
    assert.equal(await run.decided, 'succeeded');
    assert.equal(await written, 'succeeded');
    assert.equal(await queue.size(), 0);
    await queue.close();
  });

  it('failure with retries left: back at once with one retry fewer, same id', async () => {
    const task = createTask({ cmd: 'fails' }, { numRetries: 2 });
    const { queue, message } = await leased(task);
    const { processor, started } = scriptedProcessor();
    const written = execution(queue, message, processor).execute();
    (await startedTask(started)).finish({ ok: false, error: 'exit code 3', exitCode: 3 });
    assert.equal(await written, 'retried');
    const [again] = await queue.lease(1, 60_000);
    assert.equal(again?.task?.id, task.id);
    assert.equal(again?.task?.numRetries, 1);
    await queue.close();
  });

  it('failure with no retries left: dead-lettered with the error, exit code and output tail', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'fails' }));
    const { processor, started } = scriptedProcessor();
    const written = execution(queue, message, processor).execute();
    const task = await startedTask(started);
    for (let line = 1; line <= 150; line += 1) task.context.log(`line ${line}`, 'stdout');
    task.finish({ ok: false, error: 'exit code 7', exitCode: 7 });
    assert.equal(await written, 'dead-lettered');
    assert.equal(await queue.size(), 0);
    const [record] = await queue.listDeadLetters(10);
    assert.equal(record?.error, 'exit code 7');
    assert.equal(record?.exit_code, 7);
    assert.equal(record?.output.length, 100, 'the last 100 lines');
    assert.equal(record?.output.at(-1), 'line 150');
    await queue.close();
  });

  it('cancelled before it starts: released untouched, never run', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'never' }));
    const { processor, started } = scriptedProcessor();
    const run = execution(queue, message, processor);
    run.cancel();
    assert.equal(await run.execute(), 'released');
    assert.equal(started.length, 0);
    const [again] = await queue.lease(1, 60_000);
    assert.equal(again?.lease.deliveries, 1, 'a release starts the delivery count again');
    await queue.close();
  });

  it('cancelled while running: stopped, and released whatever its exit code; SIGKILL after the kill timeout', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'checkpoints' }));
    const { processor, started } = scriptedProcessor();
    const run = execution(queue, message, processor, { killTimeoutMs: 50 });
    const written = run.execute();
    const task = await startedTask(started);
    run.cancel();
    run.cancel();
    assert.equal(task.stops, 1, 'one stop, however often it is asked');
    await waitFor(() => task.kills === 1, { message: () => 'no kill after the kill timeout' });
    task.finish({ ok: true });
    assert.equal(await written, 'released');
    assert.equal((await queue.peek(10)).length, 1, 'visible again at once');
    await queue.close();
  });

  it('a stop that came after the task had ended (endedBeforeStop): settled by its outcome', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'raced' }));
    const { processor, started } = scriptedProcessor();
    const run = execution(queue, message, processor, { killTimeoutMs: 60_000 });
    const written = run.execute();
    const task = await startedTask(started);
    run.cancel();
    task.finish({ ok: true, endedBeforeStop: true });
    assert.equal(await written, 'succeeded');
    assert.equal(await queue.size(), 0);
    await queue.close();
  });

  it('a stop after the task is over changes nothing', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'done' }));
    const { processor, started } = scriptedProcessor();
    const run = execution(queue, message, processor);
    const written = run.execute();
    const task = await startedTask(started);
    task.finish({ ok: true });
    assert.equal(await run.decided, 'succeeded');
    run.cancel();
    run.kill();
    assert.equal(task.stops + task.kills, 0);
    assert.equal(await written, 'succeeded');
    await queue.close();
  });

  it('delivered more than maxDeliveries times in a row: dead-lettered unrun', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'crashes its worker' }));
    const { processor, started } = scriptedProcessor();
    assert.equal(await execution(queue, message, processor, { maxDeliveries: 0 }).execute(), 'delivery-limit');
    assert.equal(started.length, 0);
    const [record] = await queue.listDeadLetters(10);
    assert.match(record?.error ?? '', /delivered 0 times without being settled/);
    await queue.close();
  });

  it('a message that is not a task: dead-lettered with the reason, unrun', async () => {
    const { queue, message } = await leased('not json at all');
    const { processor, started } = scriptedProcessor();
    assert.equal(await execution(queue, message, processor).execute(), 'invalid');
    assert.equal(started.length, 0);
    const [record] = await queue.listDeadLetters(10);
    assert.equal(record?.task, 'not json at all');
    assert.match(record?.error ?? '', /^invalid task: /);
    await queue.close();
  });

  it('a lease lost while running: the task is stopped, and nothing is settled', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'long' }), 1_000);
    const keeper = new LeaseKeeper(message.lease, (lease, ms) => queue.extend(lease, ms), 1_000, silentLogger()).start();
    const { processor, started } = scriptedProcessor();
    const written = execution(queue, message, processor, { keeper }).execute();
    const task = await startedTask(started);
    // Another worker takes the message over (as after an expiry): the lease's token is stale from now on.
    await queue.release(message.lease);
    const other = await waitForValue(async () => (await queue.lease(1, 60_000))[0]);
    await waitFor(() => task.stops === 1, { message: () => 'the task was not stopped when its lease was found lost' });
    task.finish({ ok: true });
    assert.equal(await written, 'lease-lost');
    await queue.succeed(other.lease, other.task as Task, null);
    assert.equal(await queue.size(), 0, 'the other worker settled it; the lost lease settled nothing');
    await queue.close();
  });

  it('a settle that cannot be written: unsettled, never thrown', async () => {
    const { queue, message } = await leased(createTask({ cmd: 'ok' }));
    const { processor, started } = scriptedProcessor();
    const written = execution(queue, message, processor).execute();
    // The message is deleted under the execution: its complete finds the lease gone.
    await queue.succeed(message.lease, message.task as Task, null);
    (await startedTask(started)).finish({ ok: true });
    assert.equal(await written, 'unsettled');
    await queue.close();
  });
});
