/**
 * Helpers for the shell processor's tests: run a task with real bash children,
 * collect its output, wait on conditions with a deadline, and check after each
 * test that none of the task's processes is left.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { createShellProcessor, type ShellProcessorOptions } from '../../src/processors/shell/shell.js';
import type { OutputStream, RunningTask, TaskOutcome } from '../../src/processors/processor.js';
import { readStat, sessionMembers } from '../../src/processors/shell/session.js';
import { createTask, type Kwargs } from '../../src/task/task.js';
import { waitFor as waitUntil } from '../helpers/wait.js';

export interface LoggedLine {
  readonly line: string;
  readonly stream: OutputStream;
}

export interface TaskUnderTest {
  readonly taskId: string;
  readonly running: RunningTask;
  readonly logged: LoggedLine[];
  /** The stdout lines so far. */
  stdout(): string[];
  /** The outcome, once `done` has settled (undefined before). */
  settled(): TaskOutcome | undefined;
  /** Waits until a logged line matches, and returns it. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for `done`, failing after a deadline. */
  finish(timeoutMs?: number): Promise<TaskOutcome>;
}

/** The real Python, so that tests do not pay for a version manager's shim at every start. */
export const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();

/** A Python program that checkpoints for a second when it gets SIGTERM, then exits 0. */
export const checkpointScript = [
  'import os, signal, sys, time',
  'def on_term(signum, frame):',
  '    print("CHECKPOINTING Received signal", signum, flush=True)',
  '    time.sleep(1)',
  '    print("done", flush=True)',
  '    sys.exit(0)',
  'signal.signal(signal.SIGTERM, on_term)',
  'print("ready", os.getpid(), flush=True)',
  'while True:',
  '    time.sleep(0.1)',
].join('\n');

/** The shared condition wait, polling every 10 ms, in the short form these tests use. */
export function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return waitUntil(condition, { timeoutMs, intervalMs: 10, message: () => `timed out after ${timeoutMs} ms waiting for ${what}` });
}

/** Whether a process has exited: gone, or a zombie. */
export function exited(pid: number): boolean {
  const stat = readStat(pid);
  return stat === undefined || stat.state === 'Z';
}

/** Live processes whose environment carries this task id (every process a task starts inherits it). */
export function processesOfTask(taskId: string): number[] {
  const marker = `\0JOBQ_TASK_ID=${taskId}\0`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      if (`\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(marker) && !exited(pid)) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** The session of a task's running processes (the first one found). */
export function sessionOfTask(taskId: string): number | undefined {
  for (const pid of processesOfTask(taskId)) {
    const stat = readStat(pid);
    if (stat !== undefined) return stat.session;
  }
  return undefined;
}

/**
 * Starts a shell task. After the test, every process of the task (found by its
 * task id, and by its session when known) must be gone within `leftoverMs`;
 * any that is not is killed and the test fails.
 */
export function startTask(
  t: TestContext,
  kwargs: Kwargs,
  options: ShellProcessorOptions & { leftoverMs?: number } = {},
): TaskUnderTest {
  const { leftoverMs = 1000, ...processorOptions } = options;
  const task = createTask(kwargs, { deterministicId: false });
  const processor = createShellProcessor(processorOptions);
  const logged: LoggedLine[] = [];
  const sessions = new Set<number>();
  const running = processor.start({ task, queueName: 'shell-test', log: (line, stream) => logged.push({ line, stream }) });
  let outcome: TaskOutcome | undefined;
  void running.done.then((value) => {
    outcome = value;
  });
  const survivors = (): number[] => [
    ...new Set([...processesOfTask(task.id), ...[...sessions].flatMap((sid) => sessionMembers(sid))]),
  ];
  t.after(async () => {
    const sid = sessionOfTask(task.id);
    if (sid !== undefined) sessions.add(sid);
    // Whatever is still there after leftoverMs is killed, and fails the test.
    await waitUntil(() => survivors().length === 0, { timeoutMs: leftoverMs, intervalMs: 20 }).catch(() => {});
    const left = survivors();
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    assert.deepEqual(left, [], `processes of task ${task.id} survived the test`);
    await processor.close();
  });
  const under: TaskUnderTest = {
    taskId: task.id,
    running,
    logged,
    stdout: () => logged.filter((entry) => entry.stream === 'stdout').map((entry) => entry.line),
    settled: () => outcome,
    async line(pattern, timeoutMs = 20_000) {
      await waitFor(() => logged.some((entry) => pattern.test(entry.line)), timeoutMs, `a line matching ${pattern}`);
      const sid = sessionOfTask(task.id);
      if (sid !== undefined) sessions.add(sid);
      return logged.find((entry) => pattern.test(entry.line))?.line ?? '';
    },
    async finish(timeoutMs = 20_000) {
      await waitFor(() => outcome !== undefined, timeoutMs, `task ${task.id} to finish`);
      return outcome as TaskOutcome;
    },
  };
  return under;
}

/** Starts `cmd` (which runs checkpointScript from $SCRIPT), stops it, and checks the program checkpointed before done settled. */
export async function assertStopWaitsForCheckpoint(t: TestContext, cmd: string, options: ShellProcessorOptions = {}): Promise<void> {
  const task = startTask(t, { cmd, env: { SCRIPT: checkpointScript } }, options);
  const ready = await task.line(/^ready \d+$/);
  const pid = Number(ready.split(' ')[1]);
  task.running.stop();
  await task.finish();
  const lines = task.stdout();
  assert.ok(lines.some((line) => line.startsWith('CHECKPOINTING Received signal')), lines.join('\n'));
  assert.ok(lines.includes('done'), lines.join('\n'));
  assert.ok(exited(pid), `python (pid ${pid}) was still running when done settled`);
}

/**
 * Runs `cmd`, which leaves a process behind and prints `started <session id>`,
 * and checks that the task ends at once and that its session is emptied soon after.
 */
export async function assertLeftoversEnded(t: TestContext, cmd: string, options: ShellProcessorOptions = {}): Promise<void> {
  const task = startTask(t, { cmd }, { ...options, leftoverMs: 7000 });
  const startedAt = Date.now();
  assert.deepEqual(await task.finish(), { ok: true });
  assert.ok(Date.now() - startedAt < 3000, `took ${Date.now() - startedAt} ms`);
  const sid = Number(task.stdout()[0]?.split(' ')[1]);
  assert.ok(sid > 0);
  await waitFor(() => sessionMembers(sid).length === 0, 7000, `session ${sid} to be empty`);
}
