import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sessionMembers } from '../../src/processors/shell/session.js';
import { assertLeftoversEnded, assertStopWaitsForCheckpoint, python, sessionOfTask, startTask, waitFor } from './shell-helpers.js';

test('stdout and stderr lines are logged with their stream; a non-zero exit is a failure', async (t) => {
  const task = startTask(t, { cmd: 'echo hello; echo err >&2; exit 3' });
  const outcome = await task.finish();
  assert.deepEqual(task.logged, [
    { line: 'hello', stream: 'stdout' },
    { line: 'err', stream: 'stderr' },
  ]);
  assert.deepEqual(outcome, { ok: false, error: 'exit code 3', exitCode: 3, signal: null });
});

test('exit code 0 is success', async (t) => {
  const task = startTask(t, { cmd: 'true' });
  assert.deepEqual(await task.finish(), { ok: true });
});

test('a shell killed by a signal fails naming the signal', async (t) => {
  const task = startTask(t, { cmd: 'kill -9 $$' });
  assert.deepEqual(await task.finish(), { ok: false, error: 'killed by SIGKILL', exitCode: null, signal: 'SIGKILL' });
});

test('the task sees its id, queue name, PYTHONUNBUFFERED and its own env', async (t) => {
  const task = startTask(t, {
    cmd: 'echo "$JOBQ_TASK_ID|$JOBQ_QUEUE_NAME|$PYTHONUNBUFFERED|$GREETING|$COUNT"',
    env: { GREETING: 'hi there', COUNT: 42 },
  });
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(task.stdout(), [`${task.taskId}|shell-test|1|hi there|42`]);
});

test("the task's env may set PYTHONUNBUFFERED but not JOBQ_TASK_ID", async (t) => {
  const task = startTask(t, {
    cmd: 'echo "$PYTHONUNBUFFERED $JOBQ_TASK_ID"',
    env: { PYTHONUNBUFFERED: '0', JOBQ_TASK_ID: 'forged' },
  });
  await task.finish();
  assert.deepEqual(task.stdout(), [`0 ${task.taskId}`]);
});

test('the base environment comes from the options', async (t) => {
  const task = startTask(t, { cmd: 'echo "$BASE_ONLY"' }, { env: { ...process.env, BASE_ONLY: 'from base' } });
  await task.finish();
  assert.deepEqual(task.stdout(), ['from base']);
});

test('cwd is where the command runs, whatever characters its name has', async (t) => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "jobq cwd $(x) '")));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const task = startTask(t, { cmd: 'pwd', cwd: dir });
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(task.stdout(), [dir]);
});

test('a cwd that does not exist or is not a directory is a failure, not a throw', async (t) => {
  const missing = startTask(t, { cmd: 'echo never', cwd: '/nonexistent/jobq-test' });
  assert.deepEqual(await missing.finish(), { ok: false, error: 'cwd does not exist: /nonexistent/jobq-test' });
  const dir = mkdtempSync(path.join(tmpdir(), 'jobq-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'plain');
  writeFileSync(file, '');
  const notDir = startTask(t, { cmd: 'echo never', cwd: file });
  assert.deepEqual(await notDir.finish(), { ok: false, error: `cwd is not a directory: ${file}` });
  assert.deepEqual([...missing.logged, ...notDir.logged], []);
});

test('a missing or non-string cmd, or a non-object env, is a failure outcome', async (t) => {
  assert.deepEqual(await startTask(t, {}).finish(), { ok: false, error: 'shell task has no cmd' });
  assert.deepEqual(await startTask(t, { cmd: ['ls'] }).finish(), { ok: false, error: 'shell task has no cmd' });
  assert.deepEqual(await startTask(t, { cmd: 'true', env: 'A=1' }).finish(), {
    ok: false,
    error: 'shell task env must be an object',
  });
});

test('stdin is /dev/null: a command reading it sees its end', async (t) => {
  const task = startTask(t, { cmd: 'cat; echo eof' });
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(task.stdout(), ['eof']);
});

test('10,000 lines arrive complete and in order, and a last line without newline too', async (t) => {
  const task = startTask(t, { cmd: 'seq 1 10000; printf tail' });
  assert.deepEqual(await task.finish(), { ok: true });
  const expected = Array.from({ length: 10_000 }, (_, i) => String(i + 1));
  expected.push('tail');
  assert.deepEqual(task.stdout(), expected);
});

test('lines are logged as they arrive, not at the end', async (t) => {
  const task = startTask(t, { cmd: 'echo first; sleep 30' });
  await task.line(/^first$/);
  assert.equal(task.settled(), undefined);
  task.running.kill();
  await task.finish();
});

for (const [name, cmd] of [
  ['set -o monitor && python3', `set -o monitor && ${python} -c "$SCRIPT"`],
  ['cd /tmp ; set -o monitor && python3', `cd /tmp ; set -o monitor && ${python} -c "$SCRIPT"`],
  ["bash -c 'python3 ...'", `bash -c '${python} -c "$SCRIPT"'`],
  ['python3 ...; echo after (bash forks)', `${python} -c "$SCRIPT"; echo after`],
] as const) {
  test(`stop() reaches the program and waits for its checkpoint: ${name}`, async (t) => {
    await assertStopWaitsForCheckpoint(t, cmd);
  });
}

test('stop() lets a bash trap forward the signal, and settles quickly', async (t) => {
  const task = startTask(t, { cmd: 'sleep 10 & trap "echo got TERM; kill -15 $!" TERM; echo ready; wait $!' });
  await task.line(/^ready$/);
  const stoppedAt = Date.now();
  task.running.stop();
  await task.finish();
  assert.ok(task.stdout().includes('got TERM'), task.stdout().join('\n'));
  assert.ok(Date.now() - stoppedAt < 5000, `took ${Date.now() - stoppedAt} ms`);
});

test('a task that ignores SIGTERM is not ended by stop(), only by kill()', async (t) => {
  const task = startTask(t, { cmd: "trap '' TERM; i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done" });
  await task.line(/^tick 1$/);
  task.running.stop();
  const ticksAtStop = task.stdout().length;
  // Still ticking well after the stop: neither bash nor its sleeps died.
  await waitFor(() => task.stdout().length >= ticksAtStop + 10, 20_000, 'ticks after the stop');
  assert.equal(task.settled(), undefined);
  const sid = sessionOfTask(task.taskId);
  assert.ok(sid !== undefined);
  task.running.kill();
  const outcome = await task.finish();
  assert.equal(outcome.ok, false);
  assert.deepEqual(sessionMembers(sid), []);
});

test('kill() ends a running task at once', async (t) => {
  const task = startTask(t, { cmd: 'echo ready; sleep 30; echo never' });
  await task.line(/^ready$/);
  task.running.kill();
  assert.deepEqual(await task.finish(), { ok: false, error: 'killed by SIGKILL', exitCode: null, signal: 'SIGKILL' });
  assert.ok(!task.stdout().includes('never'));
});

// The shell starts off the event loop (session-spawn.ts): a stop or kill that
// comes in the same turn as start() must still reach it once it runs.
test('stop() at once after start() reaches the shell as soon as it runs', async (t) => {
  const task = startTask(t, { cmd: 'sleep 30; echo never' });
  task.running.stop();
  assert.deepEqual(await task.finish(10_000), { ok: false, error: 'killed by SIGTERM', exitCode: null, signal: 'SIGTERM' });
  assert.ok(!task.stdout().includes('never'));
});

test('kill() at once after start() reaches the shell as soon as it runs', async (t) => {
  const task = startTask(t, { cmd: "trap '' TERM; sleep 30; echo never" });
  task.running.kill();
  assert.deepEqual(await task.finish(10_000), { ok: false, error: 'killed by SIGKILL', exitCode: null, signal: 'SIGKILL' });
});

test('stop() and kill() are idempotent, and do nothing once the task is over', async (t) => {
  const task = startTask(t, { cmd: 'echo ready; sleep 30' });
  await task.line(/^ready$/);
  task.running.stop();
  task.running.stop();
  task.running.kill();
  task.running.kill();
  const outcome = await task.finish();
  assert.ok(!outcome.ok && (outcome.signal === 'SIGTERM' || outcome.signal === 'SIGKILL'), JSON.stringify(outcome));
  task.running.stop();
  task.running.kill();
  assert.equal(await task.running.done, outcome, 'the outcome stands');
});

for (const [name, cmd] of [
  ['sleep 1000 & echo started', 'sleep 1000 & echo started $$'],
  ['in its own process group (set -m)', 'set -m; sleep 1000 & echo started $$'],
  ['ignoring SIGTERM (SIGKILL after 5 s)', "trap '' TERM; sleep 1000 & echo started $$"],
] as const) {
  test(`what a finished task left behind does not hold the slot or outlive it: ${name}`, async (t) => {
    await assertLeftoversEnded(t, cmd);
  });
}

test('loginShell runs bash as a login shell; JOBQ_USE_LOGIN_SHELL=1 turns it on by default', async (t) => {
  const cmd = 'shopt -q login_shell && echo login || echo plain';
  const plain = startTask(t, { cmd });
  await plain.finish();
  assert.deepEqual(plain.stdout(), ['plain']);
  const login = startTask(t, { cmd }, { loginShell: true });
  await login.finish();
  assert.equal(login.stdout().at(-1), 'login');
  const fromEnv = startTask(t, { cmd }, { env: { ...process.env, JOBQ_USE_LOGIN_SHELL: '1' } });
  await fromEnv.finish();
  assert.equal(fromEnv.stdout().at(-1), 'login');
});

test('without bash on the PATH the command runs under /bin/sh', async (t) => {
  const task = startTask(t, { cmd: 'echo "$0"' }, { env: { ...process.env, PATH: '/nonexistent-jobq' } });
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(task.stdout(), ['/bin/sh']);
});

for (const emulateTty of [false, true]) {
  test(`output written in answer to a stop is not lost${emulateTty ? ' (emulateTty)' : ''}`, async (t) => {
    const cmd = "trap 'seq 1 5000; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
    const task = startTask(t, { cmd }, { emulateTty });
    await task.line(/^ready$/);
    task.running.stop();
    await task.finish();
    // bash reports its sleep's death by SIGTERM ("Terminated"), on stdout under a terminal.
    const numbers = task.stdout().filter((line) => /^\d+$/.test(line));
    assert.deepEqual(numbers, Array.from({ length: 5000 }, (_, i) => String(i + 1)));
  });
}
