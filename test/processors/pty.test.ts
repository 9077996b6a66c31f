import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionMembers } from '../../src/processors/shell/session.js';
import { assertLeftoversEnded, assertStopWaitsForCheckpoint, checkpointScript, exited, python, sessionOfTask, startTask, waitFor } from './shell-helpers.js';

const tty = { emulateTty: true } as const;

test('under emulateTty the command writes to a terminal', async (t) => {
  const task = startTask(t, { cmd: 'test -t 1 && echo tty' }, tty);
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(task.logged, [{ line: 'tty', stream: 'stdout' }]);
});

test('stderr joins stdout, and carriage returns give clean lines', async (t) => {
  const task = startTask(t, { cmd: "printf 'a\\r\\nb\\rc\\n'; echo err >&2; printf tail" }, tty);
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(task.logged, [
    { line: 'a', stream: 'stdout' },
    { line: 'b', stream: 'stdout' },
    { line: 'c', stream: 'stdout' },
    { line: 'err', stream: 'stdout' },
    { line: 'tail', stream: 'stdout' },
  ]);
});

test('under emulateTty the exit code, the signal, env, cwd and stdin are as without', async (t) => {
  const failed = startTask(t, { cmd: 'exit 3' }, tty);
  assert.deepEqual(await failed.finish(), { ok: false, error: 'exit code 3', exitCode: 3, signal: null });
  const killed = startTask(t, { cmd: 'kill -9 $$' }, tty);
  assert.deepEqual(await killed.finish(), { ok: false, error: 'killed by SIGKILL', exitCode: null, signal: 'SIGKILL' });
  const env = startTask(t, { cmd: 'cat; pwd; echo "$JOBQ_TASK_ID $GREETING"', cwd: '/tmp', env: { GREETING: 'hi' } }, tty);
  assert.deepEqual(await env.finish(), { ok: true });
  assert.deepEqual(env.stdout(), ['/tmp', `${env.taskId} hi`]);
});

test('10,000 lines arrive complete and in order under emulateTty', async (t) => {
  const task = startTask(t, { cmd: 'seq 1 10000' }, tty);
  assert.deepEqual(await task.finish(), { ok: true });
  assert.deepEqual(
    task.stdout(),
    Array.from({ length: 10_000 }, (_, i) => String(i + 1)),
  );
});

for (const [name, cmd] of [
  ['python3 exec’d by bash', `${python} -c "$SCRIPT"`],
  ['cd /tmp ; set -o monitor && python3', `cd /tmp ; set -o monitor && ${python} -c "$SCRIPT"`],
  ['python3 ...; echo after (bash forks)', `${python} -c "$SCRIPT"; echo after`],
  ["bash -c 'python3 ...; echo after'", `bash -c '${python} -c "$SCRIPT"; echo after'`],
] as const) {
  test(`under emulateTty stop() waits for the checkpoint: ${name}`, async (t) => {
    await assertStopWaitsForCheckpoint(t, cmd, tty);
  });
}

test('under emulateTty a task ignoring SIGTERM survives stop() and ends on kill()', async (t) => {
  const task = startTask(t, { cmd: "trap '' TERM; i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.05; done" }, tty);
  await task.line(/^tick 1$/);
  const sid = sessionOfTask(task.taskId);
  assert.ok(sid !== undefined);
  task.running.stop();
  const ticksAtStop = task.stdout().length;
  await waitFor(() => task.stdout().length >= ticksAtStop + 10, 20_000, 'ticks after the stop');
  assert.equal(task.settled(), undefined);
  task.running.kill();
  assert.equal((await task.finish()).ok, false);
  assert.deepEqual(sessionMembers(sid), []);
});

test('under emulateTty what a finished task left behind is ended', async (t) => {
  await assertLeftoversEnded(t, "sleep 1000 & echo started $(cut -d' ' -f6 /proc/$$/stat)", tty);
});

test('under emulateTty without bash the supervisor runs under /bin/sh, and a stop still waits for the checkpoint', async (t) => {
  const env = { ...process.env, PATH: '/nonexistent-jobq' };
  const task = startTask(t, { cmd: `echo "$0"; ${python} -c "$SCRIPT"; echo after`, env: { SCRIPT: checkpointScript } }, { ...tty, env });
  const ready = await task.line(/^ready \d+$/);
  task.running.stop();
  await task.finish();
  const lines = task.stdout();
  assert.equal(lines[0], '/bin/sh');
  assert.ok(lines.includes('done'), lines.join('\n'));
  assert.ok(exited(Number(ready.split(' ')[1])));
});
