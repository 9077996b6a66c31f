/**
 * node-pty is an optional dependency, loaded only for --emulate-tty: without
 * it a worker runs shell tasks as usual, and --emulate-tty is refused at once
 * with one line saying how to get it (not task by task).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { assertOneErrorLine, runCli, tempHome, type CliResult } from '../helpers/cli.js';
import { cliPath, fixturesDir } from '../helpers/paths.js';

/** The CLI with node-pty hidden, as if it had not been installed. */
function runWithoutPty(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = spawn(process.execPath, ['--require', path.join(fixturesDir, 'hide-node-pty.cjs'), cliPath, ...args], {
    env: { ...process.env, JOBQ_LOG_LEVEL: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

describe('node-pty is optional (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('without node-pty, shell tasks run; --emulate-tty is one clear error before any task runs', async () => {
    assert.equal((await runCli(['local/nopty', 'push', '-c', 'echo plain-task', '-c', 'echo second'], { env: home.env })).code, 0);
    const plain = await runWithoutPty(['local/nopty', 'pull'], home.env);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /plain-task/);
    const tty = await runWithoutPty(['local/nopty', 'worker', '--emulate-tty'], home.env);
    assertOneErrorLine(tty, 2, /--emulate-tty needs the optional package node-pty, which cannot be loaded .*npm install node-pty/);
    assert.equal((await runCli(['local/nopty', 'size'], { env: home.env })).stdout.trim(), '1', 'the second task is untouched');
  });
});
