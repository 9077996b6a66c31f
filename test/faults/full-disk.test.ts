/**
 * A full disk under the local backend: JOBQ_HOME on a 2 MB tmpfs, filled by
 * something else up to the last few pages. The worker says so and retries; once
 * the space is freed it finishes every task by itself, without a restart,
 * although 2 MB is less than the 4 MB SQLite's write-ahead log grows to
 * before its default checkpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, statSync, truncateSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { killWithEnv } from '../helpers/processes.js';
import { recordedTasks } from '../helpers/recorded-runs.js';

const notRoot = process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root';
const TASKS = 1500;
/** Generous for 1,500 shell tasks on a loaded 2-core machine; a worker stuck on a full log never gets there. */
const FINISH_WITHIN_MS = 240_000;
/** Free bytes left beside the ballast: the -shm file's 32 KB and two pages. */
const ROOM_LEFT = 40 * 1024;

/** Writes zeros to `file` until the file system has no byte left. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('JOBQ_HOME on a 2 MB tmpfs that fills up', { skip: notRoot }, () => {
  const home = tempHome();
  const mount = mkdtempSync(path.join(os.tmpdir(), 'jobq-tmpfs-'));
  const env = { ...home.env, JOBQ_HOME: path.join(mount, 'home'), JOBQ_TEST_WORKER: '0' };
  before(() => execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]));
  after(() => {
    killWithEnv('JOBQ_HOME', env.JOBQ_HOME);
    execFileSync('umount', ['--lazy', mount]);
    rmdirSync(mount);
    home.cleanup();
  });

  it('the worker reports the full disk, then finishes every task once space is freed', async () => {
    const tasks = recordedTasks(home.home);
    const lines = Array.from({ length: TASKS }, (_, n) => tasks.command(n, 0)).join('\n');
    const push = await runCli(['local/tiny', 'push'], { env, input: lines });
    assert.equal(push.code, 0, push.stderr);
    // Something else fills the disk, leaving room for the worker to open the
    // database (its 32 KB -shm file) and for a page or two of its log.
    const ballast = path.join(mount, 'ballast');
    fill(ballast);
    truncateSync(ballast, statSync(ballast).size - ROOM_LEFT);
    const worker = startCli(['local/tiny', 'worker', '-n', '2', '--visibility-timeout', '5s'], { env });
    await worker.waitForOutput(/cannot reach the queue: local queue tiny: database or disk is full; retrying/, 60_000);
    rmSync(ballast);

    const exit = await worker.exitedWithin(
      FINISH_WITHIN_MS,
      () => `not done ${FINISH_WITHIN_MS} ms after the space was freed (${tasks.runs().length} runs):\n${worker.stderr.slice(-1500)}`,
    );
    assert.equal(exit.code, 0, exit.stderr.slice(-1500));
    const done = new Set(tasks.runs().map((run) => run.number));
    assert.equal(done.size, TASKS, 'every task ran');
    assert.equal((await runCli(['local/tiny', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['local/tiny', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });
});

