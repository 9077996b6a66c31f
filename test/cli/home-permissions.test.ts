/**
 * A JOBQ_HOME another user could write to is refused (one line, exit 1):
 * owned by someone else, writable by group or others, or holding a database
 * that is someone else's or a symbolic link. JOBQ_ALLOW_SHARED_HOME=1 opts
 * in. The database, its -wal and -shm end up owner-only, also when they
 * existed with looser modes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assertOneErrorLine, runCli, tempHome } from '../helpers/cli.js';
import { localDbFile } from '../helpers/local-store.js';

const uid = process.getuid?.() ?? -1;
/** Only root can give a folder away (chown). */
const notRoot = uid === 0 ? false : 'giving a folder to another user needs root';
const NOBODY = 65534;

const commands = [['local/perm', 'push', '-c', 'true'], ['local/perm', 'worker'], ['local/perm', 'size']];

function mode(file: string): string {
  return (statSync(file).mode & 0o777).toString(8);
}

describe('JOBQ_HOME that others could write to: refused with one line, exit 1', () => {
  const base = tempHome();
  after(() => base.cleanup());
  let count = 0;
  /** A fresh JOBQ_HOME folder inside the test's temp home. */
  const folder = (): string => {
    const dir = path.join(base.home, `home-${(count += 1)}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  };

  it('a home owned by another user', { skip: notRoot }, async () => {
    const home = folder();
    chownSync(home, NOBODY, NOBODY);
    for (const args of commands) {
      const result = await runCli(args, { env: { ...base.env, JOBQ_HOME: home } });
      assertOneErrorLine(
        result,
        1,
        new RegExp(`JOBQ_HOME ${home} is owned by uid ${NOBODY}, not by this user \\(uid ${uid}\\).*JOBQ_ALLOW_SHARED_HOME=1`),
      );
    }
    assert.equal(existsSync(localDbFile(home)), false, 'no database was created there');
    const allowed = await runCli(commands[0] ?? [], { env: { ...base.env, JOBQ_HOME: home, JOBQ_ALLOW_SHARED_HOME: '1' } });
    assert.equal(allowed.code, 0, allowed.stderr);
  });

  it('a home writable by group and others, or by its group', async () => {
    for (const [bits, who] of [[0o777, 'group and others'], [0o770, 'its group'], [0o703, 'others']] as const) {
      const home = folder();
      chmodSync(home, bits);
      for (const args of commands) {
        const result = await runCli(args, { env: { ...base.env, JOBQ_HOME: home } });
        assertOneErrorLine(result, 1, new RegExp(`JOBQ_HOME ${home} is writable by ${who} \\(mode 0${bits.toString(8)}\\).*chmod go-w`));
      }
      assert.equal(existsSync(localDbFile(home)), false);
      const allowed = await runCli(commands[0] ?? [], { env: { ...base.env, JOBQ_HOME: home, JOBQ_ALLOW_SHARED_HOME: '1' } });
      assert.equal(allowed.code, 0, allowed.stderr);
    }
  });

  it("a database owned by another user, in the user's own home", { skip: notRoot }, async () => {
    const home = folder();
    assert.equal((await runCli(commands[0] ?? [], { env: { ...base.env, JOBQ_HOME: home } })).code, 0);
    const file = localDbFile(home);
    chownSync(file, NOBODY, NOBODY);
    const before = readFileSync(file);
    for (const args of commands) {
      assertOneErrorLine(await runCli(args, { env: { ...base.env, JOBQ_HOME: home } }), 1, /jobq\.db is owned by uid 65534/);
    }
    assert.deepEqual(readFileSync(file), before, 'the database is untouched');
  });

  it('a database that is a symbolic link', async () => {
    const home = folder();
    const target = path.join(base.home, 'elsewhere');
    writeFileSync(target, 'not yours\n', { mode: 0o644 });
    symlinkSync(target, localDbFile(home));
    for (const args of commands) {
      assertOneErrorLine(await runCli(args, { env: { ...base.env, JOBQ_HOME: home } }), 1, /jobq\.db is a symbolic link/);
    }
    assert.equal(readFileSync(target, 'utf8'), 'not yours\n');
    assert.equal(mode(target), '644', 'its target is untouched');
  });
});

describe('the database files are owner-only', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('a database, -wal and -shm left 0644 by an older jobq are set to 0600', async () => {
    assert.equal((await runCli(['local/perm', 'push', '-c', 'true'], { env: home.env })).code, 0);
    const file = localDbFile(home.home);
    // This connection keeps the -wal and -shm files in place while the CLI runs.
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.prepare("INSERT INTO messages (queue, body, visible_at, created_at) VALUES ('other', 'x', 0, 0)").run();
      const files = [file, `${file}-wal`, `${file}-shm`];
      for (const each of files) chmodSync(each, 0o644);
      const size = await runCli(['local/perm', 'size'], { env: home.env });
      assert.equal(size.stdout.trim(), '1', size.stderr);
      assert.deepEqual(files.map(mode), ['600', '600', '600']);
    } finally {
      db.close();
    }
  });
});
