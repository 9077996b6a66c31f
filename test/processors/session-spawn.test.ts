/**
 * The spawn addon (native/spawn.c) through session-spawn.ts: what a task's
 * shell gets (its own session, stdin /dev/null, default signal handling, the
 * given env and cwd), how its end is reported, and the announcement to the
 * session guard. Real processes throughout.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  announcementsTo,
  closeAnnouncements,
  nativeSpawnLoaded,
  spawnInSession,
  type SessionProcess,
} from '../../src/processors/shell/session-spawn.js';

const bash = '/bin/bash';

async function text(stream: Readable): Promise<string> {
  let all = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream) all += chunk as string;
  return all;
}

async function run(cmd: string, options: { env?: Record<string, string>; cwd?: string; announcements?: number } = {}) {
  const child: SessionProcess = await spawnInSession(
    { file: bash, args: ['-c', cmd], cwd: options.cwd, env: options.env ?? { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } },
    options.announcements ?? -1,
  );
  const [stdout, stderr, exit] = await Promise.all([text(child.stdout), text(child.stderr), child.exited]);
  return { child, stdout, stderr, exit };
}

describe('the spawn addon', { skip: process.platform !== 'linux' && 'the addon is for Linux' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jobq-spawn-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is built and loaded (npm install builds it with node-gyp)', () => {
    assert.equal(nativeSpawnLoaded(), true, 'build/Release/jobq_spawn.node is missing or failed to load: see the output of npm install');
  });

  it('starts the shell as the leader of a new session, stdin /dev/null, no signal ignored or blocked', async () => {
    const { child, stdout, exit } = await run(
      'read -r line; echo "read:$?"; ps -o sid= -p $$; grep -E "^Sig(Ign|Blk)" /proc/self/status; readlink /proc/self/fd/0',
    );
    const lines = stdout.trim().split('\n').map((line) => line.trim());
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(lines[0], 'read:1', 'stdin is at its end at once');
    assert.equal(lines[1], String(child.pid), 'the shell leads its own session');
    // Signals 1-31, the low bits of the masks (glibc's posix_spawn leaves its
    // two internal real-time signals, 32 and 33, ignored; they are its own).
    const mask = (name: string): number => {
      const hex = lines.find((line) => line.startsWith(`${name}:`))?.split(/\s+/)[1] ?? 'ffffffff';
      return Number.parseInt(hex.slice(-8), 16) & 0x7fffffff;
    };
    assert.equal(mask('SigIgn'), 0, 'no signal ignored: SIGPIPE is not inherited from node');
    assert.equal(mask('SigBlk'), 0, 'no signal blocked');
    assert.equal(lines[4], '/dev/null');
  });

  it('passes exactly the given environment and working directory', async () => {
    const { stdout } = await run('env | sort; pwd', { env: { A: '1', B: 'two words', PATH: '/usr/bin:/bin' }, cwd: dir });
    const lines = stdout.trim().split('\n');
    assert.deepEqual(lines.filter((line) => /^(A|B)=/.test(line)), ['A=1', 'B=two words']);
    assert.equal(lines.at(-1), dir);
  });

  it('reports exit codes and signals, and stdout and stderr apart', async () => {
    assert.deepEqual((await run('exit 3')).exit, { code: 3, signal: null });
    assert.deepEqual((await run('kill -TERM $$')).exit, { code: null, signal: 'SIGTERM' });
    const { stdout, stderr } = await run('echo out; echo err >&2');
    assert.deepEqual([stdout, stderr], ['out\n', 'err\n']);
  });

  it('turns a shell that cannot be started into an error, with no process', async () => {
    const child = await spawnInSession({ file: path.join(dir, 'no-such-shell'), args: [], cwd: undefined, env: {} }, -1);
    assert.equal(child.pid, undefined);
    const exit = await child.exited;
    assert.ok(exit instanceof Error);
    assert.match(exit.message, /^cannot start .*no-such-shell: .*No such file or directory/);
    assert.equal(await text(child.stdout), '');
  });

  it('announces each session on the guard channel before it reports the start', async () => {
    const file = path.join(dir, 'announced');
    const fd = openSync(file, 'w');
    const channel = announcementsTo(fd);
    closeSync(fd); // the addon writes to its own copy
    try {
      const child = await spawnInSession({ file: bash, args: ['-c', 'sleep 0.2'], cwd: undefined, env: { PATH: '/usr/bin:/bin' } }, channel);
      child.stdout.resume();
      child.stderr.resume();
      // Written before the start was reported, while the shell still runs.
      assert.equal(readFileSync(file, 'utf8'), `+${child.pid}\n`);
      assert.equal(child.announced, true);
      assert.deepEqual(await child.exited, { code: 0, signal: null });
    } finally {
      closeAnnouncements(channel);
    }
  });

  it('reports the end of every one of many short shells started at once', async () => {
    const runs = await Promise.all(Array.from({ length: 300 }, (_, i) => run(`exit ${i % 7}`)));
    assert.deepEqual(
      runs.map(({ exit }) => exit),
      runs.map((_, i) => ({ code: i % 7, signal: null })),
    );
  });
});
