import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { endLeftovers, parseStat, ProcessSession, readStat, sessionMembers } from '../../src/processors/shell/session.js';
import { waitFor } from './shell-helpers.js';

test('parseStat counts fields from the last ")", whatever the command name holds', () => {
  const text = '4242 (a) b (c) d) S 1 4000 4100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 125801 3133440 382\n';
  assert.deepEqual(parseStat(4242, text), { pid: 4242, state: 'S', ppid: 1, pgrp: 4000, session: 4100, startTime: 125801 });
  assert.equal(parseStat(1, 'garbage'), undefined);
});

test('readStat reads this process and nothing for a pid that does not exist', () => {
  assert.equal(readStat(process.pid)?.pid, process.pid);
  assert.equal(readStat(2 ** 22 + 1), undefined);
});

test('a session is found, terminated and killed, also across process groups', async (t) => {
  // The shell ignores SIGTERM and so do the sleeps it starts; `set -m` puts one in a group of its own.
  const child = spawn('bash', ['-c', "trap '' TERM; set -m; sleep 60 & sleep 60 & echo ready; wait"], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const sid = child.pid;
  assert.ok(sid !== undefined);
  t.after(() => {
    for (const pid of sessionMembers(sid)) process.kill(pid, 'SIGKILL');
  });
  await once(child.stdout, 'data');
  const members = sessionMembers(sid);
  assert.equal(members.length, 3);
  assert.equal(members[0], sid, 'the leader comes first');
  assert.ok(new Set(members.map((pid) => readStat(pid)?.pgrp)).size > 1, 'set -m made another process group');
  const session = new ProcessSession(sid);
  assert.equal(session.alive(), true);
  assert.equal(session.terminate(), true);
  assert.equal(session.terminate(), true);
  assert.deepEqual(sessionMembers(sid).sort(), [...members].sort(), 'SIGTERM is ignored');
  session.kill();
  await waitFor(() => !session.alive(), 5000, 'the session to die');
  assert.deepEqual(sessionMembers(sid), []);
});

test('endLeftovers sends SIGTERM at once', async (t) => {
  const child = spawn('bash', ['-c', 'sleep 60 & echo ready; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const sid = child.pid;
  assert.ok(sid !== undefined);
  t.after(() => {
    for (const pid of sessionMembers(sid)) process.kill(pid, 'SIGKILL');
  });
  await once(child.stdout, 'data');
  // SIGKILL only after a minute: the session must end of the SIGTERM.
  endLeftovers(new ProcessSession(sid), 60_000);
  await waitFor(() => sessionMembers(sid).length === 0, 5000, 'the session to end');
});
