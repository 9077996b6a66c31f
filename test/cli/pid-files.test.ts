/**
 * PID files cannot be turned against other processes or files: `jobq
 * signal` never signals a process a stale file names (a reused pid), a
 * worker never writes through a symbolic link planted where its PID file
 * goes, and a PID folder others can write to is refused.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertOneErrorLine, CliProcess, runCli, tempHome } from '../helpers/cli.js';
import { cliPath } from '../helpers/paths.js';
import { readStat } from '../../src/processors/shell/session.js';

/** A process of this test's own that no jobq file should ever reach. */
function bystander(): ChildProcess {
  return spawn('sleep', ['300'], { stdio: 'ignore' });
}

function isRunning(pid: number): boolean {
  const state = readStat(pid)?.state;
  return state !== undefined && state !== 'Z';
}

describe('PID files', () => {
  const home = tempHome();
  const pidDir = home.env['JOBQ_PID_DIR'] as string;
  const env = home.env;
  const bystanders: ChildProcess[] = [];
  after(() => {
    for (const child of bystanders) child.kill('SIGKILL');
    home.cleanup();
  });

  it('a stale PID file naming a live unrelated process: not signalled, and removed', async () => {
    const dir = path.join(pidDir, 'stale');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const victims = [bystander(), bystander()];
    bystanders.push(...victims);
    const [legacy, reused] = victims.map((child) => child.pid as number) as [number, number];
    // As an older jobq wrote it (a bare pid), and as this one does but for an earlier process with that pid.
    writeFileSync(path.join(dir, `${legacy}.pid`), `${legacy}\n`, { mode: 0o600 });
    const startTime = readStat(reused)?.startTime ?? 0;
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(path.join(dir, `${reused}.pid`), `${JSON.stringify({ pid: reused, start_time: startTime - 1, boot_id: bootId })}\n`, { mode: 0o600 });

    for (const action of ['stop', 'drain', 'preempt']) {
      const signal = await runCli(['local/stale', 'signal', action], { env });
      assert.equal(signal.code, 0, signal.stderr);
      assert.match(signal.stderr, /to 0 worker\(s\)/);
    }
    assert.ok(isRunning(legacy) && isRunning(reused), 'the unrelated processes were not signalled');
    assert.equal(existsSync(path.join(dir, `${legacy}.pid`)), false, 'stale files are removed');
    assert.equal(existsSync(path.join(dir, `${reused}.pid`)), false);
  });

  it('a symbolic link planted where the PID file goes: the worker does not write through it, and is still found', async () => {
    const dir = path.join(pidDir, 'planted');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const target = path.join(home.home, 'precious');
    writeFileSync(target, 'keep me\n', { mode: 0o600 });
    assert.equal((await runCli(['local/planted', 'push', '-c', 'echo ready; sleep 60'], { env })).code, 0);
    // bash plants the link at its own pid, then execs the worker, which keeps that pid.
    const script = `ln -s "$TARGET" "$DIR/$$.pid" && exec "$NODE" "$CLI" local/planted worker`;
    const worker = new CliProcess(
      spawn('bash', ['-c', script], {
        env: { ...process.env, ...env, TARGET: target, DIR: dir, NODE: process.execPath, CLI: cliPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await worker.waitForOutput(/^ready$/m);
    const pid = worker.child.pid as number;
    assert.equal(readFileSync(target, 'utf8'), 'keep me\n', 'the link target is untouched');
    const file = path.join(dir, `${pid}.pid`);
    assert.ok(lstatSync(file).isFile(), 'the PID file is a regular file');
    assert.equal((lstatSync(file).mode & 0o777).toString(8), '600');
    assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid, pid);
    const signal = await runCli(['local/planted', 'signal', 'stop'], { env });
    assert.match(signal.stderr, new RegExp(`sent SIGUSR2 to 1 worker\\(s\\): ${pid}$`, 'm'));
    assert.equal((await worker.exited).code, 0, worker.output);
    assert.equal(existsSync(file), false, 'the worker removed its PID file');
  });

  it('a PID folder others can write to, or a queue folder that is a link: refused with one line, exit 1', async () => {
    const open = path.join(home.home, 'open-pids');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o777);
    const openEnv = { ...env, JOBQ_PID_DIR: open };
    const victim = bystander();
    bystanders.push(victim);
    mkdirSync(path.join(open, 'open'), { mode: 0o700 });
    writeFileSync(path.join(open, 'open', `${victim.pid}.pid`), `${victim.pid}\n`);
    assert.equal((await runCli(['local/open', 'push', '-c', 'true'], { env: openEnv })).code, 0);
    const pattern = new RegExp(`the PID folder ${open} is writable by group and others \\(mode 0777\\)`);
    assertOneErrorLine(await runCli(['local/open', 'signal', 'stop'], { env: openEnv }), 1, pattern);
    assertOneErrorLine(await runCli(['signal', 'stop'], { env: openEnv }), 1, pattern);
    assertOneErrorLine(await runCli(['local/open', 'worker'], { env: openEnv }), 1, pattern);
    assert.ok(isRunning(victim.pid as number));

    const elsewhere = path.join(home.home, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o700 });
    mkdirSync(pidDir, { recursive: true, mode: 0o700 });
    symlinkSync(elsewhere, path.join(pidDir, 'linked'));
    assert.equal((await runCli(['local/linked', 'push', '-c', 'true'], { env })).code, 0);
    assertOneErrorLine(await runCli(['local/linked', 'worker'], { env }), 1, /the PID folder .*linked is a symbolic link/);
    assert.equal((await runCli(['local/linked', 'size'], { env })).stdout.trim(), '1', 'the task was not run');
  });
});
