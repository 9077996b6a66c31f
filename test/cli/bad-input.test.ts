/**
 * Bad input on the command line and in the environment, beyond the cases of
 * usage-errors.test.ts: each is answered by one clear error line and a
 * documented exit code (2 for usage errors, 1 for a queue store that cannot
 * be used), and the queue's content is exactly as before.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { assertOneErrorLine, runCli, tempHome, type BadInputCase } from '../helpers/cli.js';
import { fileDigest, localDbFile, snapshotMessages } from '../helpers/local-store.js';
import { fixturesDir } from '../helpers/paths.js';

const isRoot = process.getuid?.() === 0;

describe('bad input on the command line: one line, exit code 2, the queue untouched', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const functions = path.join(fixturesDir, 'functions');

  before(async () => {
    const push = await runCli(['local/keep', 'push', '-c', 'echo one', '-c', 'echo two', '--num-retries', '1'], { env: home.env });
    assert.equal(push.code, 0, push.stderr);
  });

  const longName = 'a'.repeat(56);
  const badLastLine = Array.from({ length: 4999 }, (_, i) => `echo ${i}`).join('\n') + '\n{"cmd": "unfinished"\n';
  const cases: BadInputCase[] = [
    { name: 'a bad JSON line at the end of 5000', args: ['local/keep', 'push'], input: badLastLine, pattern: /line 5000: not valid JSON/ },
    { name: 'two JSON objects on one line', args: ['local/keep', 'push'], input: '{"a": 1} {"b": 2}\n', pattern: /line 1: not valid JSON/ },
    { name: 'a number JSON cannot hold', args: ['local/keep', 'push'], input: 'echo ok\n{"lr": 1e999}\n', pattern: /line 2: not valid JSON \(the number 1e999 is out of range/ },
    { name: 'NaN, which Python reads but JSON does not', args: ['local/keep', 'push'], input: '{"lr": NaN}\n', pattern: /line 1: not valid JSON \(NaN is not JSON/ },
    { name: 'a command with a NUL byte', args: ['local/keep', 'push'], input: 'echo ok\necho a\0b\n', pattern: /line 2: the command has a NUL byte/ },
    { name: 'a JSON command with a NUL byte', args: ['local/keep', 'push'], input: '{"cmd": "echo a\\u0000b"}\n', pattern: /line 1: the command has a NUL byte/ },
    { name: 'a JSON command with a lone surrogate', args: ['local/keep', 'push'], input: '{"cmd": "echo \\ud800"}\n', pattern: /line 1: the command has a lone surrogate/ },
    { name: 'a line that is not UTF-8', args: ['local/keep', 'push'], input: Buffer.from('echo ok\n\necho caf\xe9\n', 'latin1'), pattern: /line 3: not valid UTF-8/ },
    {
      name: 'a command longer than the kernel takes as one argument',
      args: ['local/keep', 'push'],
      input: `echo ok\necho ${'x'.repeat(131_067)}\n`,
      pattern: /line 2: the command is 131073 bytes, longer than the 131071 bytes the kernel takes as one argument/,
    },
    { name: 'a JSON env that is not an object, even without -e', args: ['local/keep', 'push'], input: '{"cmd": "env", "env": "A=1"}\n', pattern: /line 1: "env" must be an object/ },
    { name: 'the dead-letter queue as a push target', args: ['local/keep-failed', 'push', '-c', 'true'], pattern: /keep-failed is the dead-letter queue of keep: push to keep instead/ },
    { name: 'the control queue as a push target', args: ['local/keep-control', 'push', '-c', 'true'], pattern: /keep-control is the control queue of keep/ },
    { name: 'an absurd push --num-workers', args: ['local/keep', 'push', '-c', 'true', '--num-workers', '1000000000'], pattern: /invalid --num-workers "1000000000": must be an integer from 1 to 256/ },
    { name: 'an -e pair without a name', args: ['local/keep', 'push', '-c', 'true', '-e', '=x'], pattern: /invalid environment variable "=x"/ },
    { name: 'a negative --num-retries', args: ['local/keep', 'push', '-c', 'true', '--num-retries', '-1'], pattern: /--num-retries/ },
    { name: 'a fractional --num-retries', args: ['local/keep', 'push', '-c', 'true', '--num-retries', '1.5'], pattern: /--num-retries/ },
    { name: 'an unknown worker flag', args: ['local/keep', 'worker', '--max-deliverys', '3'], pattern: /Nonexistent flag: --max-deliverys/ },
    { name: 'an unknown pull flag', args: ['local/keep', 'pull', '--frobnicate'], pattern: /Nonexistent flag: --frobnicate/ },
    { name: 'no task slots', args: ['local/keep', 'worker', '-n', '0'], pattern: /--num-workers/ },
    { name: 'a zero visibility timeout', args: ['local/keep', 'worker', '--visibility-timeout', '0'], pattern: /invalid --visibility-timeout "0": must be at least 1s/ },
    { name: 'a fractional duration', args: ['local/keep', 'worker', '--visibility-timeout', '1.5m'], pattern: /invalid --visibility-timeout "1.5m"/ },
    { name: 'a negative duration', args: ['local/keep', 'worker', '--time-limit', '-5'], pattern: /invalid --time-limit "-5"/ },
    { name: 'an unknown unit', args: ['local/keep', 'pull', '--visibility-timeout', '10y'], pattern: /invalid --visibility-timeout "10y"/ },
    { name: 'a bad JOBQ_TIME_LIMIT', args: ['local/keep', 'worker'], env: { JOBQ_TIME_LIMIT: 'soon' }, pattern: /invalid JOBQ_TIME_LIMIT "soon"/ },
    { name: 'a bad JOBQ_KILL_TIMEOUT', args: ['local/keep', 'worker'], env: { JOBQ_KILL_TIMEOUT: 'forever' }, pattern: /invalid JOBQ_KILL_TIMEOUT "forever"/ },
    { name: 'a bad JOBQ_PREEMPTION_TIMEOUT', args: ['local/keep', 'worker'], env: { JOBQ_PREEMPTION_TIMEOUT: '1h30m' }, pattern: /invalid JOBQ_PREEMPTION_TIMEOUT "1h30m"/ },
    { name: 'a zero --max-deliveries', args: ['local/keep', 'worker', '--max-deliveries', '0'], pattern: /--max-deliveries/ },
    { name: 'a zero JOBQ_MAX_DELIVERIES', args: ['local/keep', 'worker'], env: { JOBQ_MAX_DELIVERIES: '0' }, pattern: /invalid JOBQ_MAX_DELIVERIES "0"/ },
    { name: 'a word for JOBQ_MAX_DELIVERIES', args: ['local/keep', 'pull'], env: { JOBQ_MAX_DELIVERIES: 'many' }, pattern: /invalid JOBQ_MAX_DELIVERIES "many"/ },
    { name: 'a queue name that is too long', args: [`local/${longName}`, 'size'], pattern: /invalid queue name/ },
    { name: 'a double hyphen', args: ['local/keep--it', 'size'], pattern: /invalid queue name "keep--it"/ },
    { name: 'a trailing hyphen', args: ['local/keep-', 'push', '-c', 'true'], pattern: /invalid queue name "keep-"/ },
    { name: 'an empty queue name', args: ['local/', 'size'], pattern: /invalid queue name ""/ },
    { name: 'a spec with two slashes', args: ['local/keep/more', 'size'], pattern: /invalid queue spec "local\/keep\/more"/ },
    { name: 'a bad JOBQ_QUEUE', args: ['size'], env: { JOBQ_QUEUE: 'local/Keep' }, pattern: /invalid queue name "Keep"/ },
    { name: 'a --proc module that does not exist', args: ['local/keep', 'worker', '--proc', './no-such-module.js'], pattern: /no-such-module\.js: file not found/ },
    { name: 'a --proc file that is not JavaScript', args: ['local/keep', 'worker', '--proc', path.join(functions, 'not-a-module.js')], pattern: /not a module that can be imported/ },
    { name: 'a --proc export that does not exist', args: ['local/keep', 'pull', '--proc', `${path.join(functions, 'add.js')}#nope`], pattern: /no export "nope"/ },
    { name: 'a --proc folder', args: ['local/keep', 'worker', '--proc', functions + path.sep], pattern: /function module .*functions/ },
    { name: 'an unknown task type', args: ['local/keep', 'worker', '--proc', 'no-such-type'], pattern: /unknown task type "no-such-type"/ },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, async () => {
      const before = snapshotMessages(home.home);
      const result = await runCli(testCase.args, {
        env: { ...home.env, ...testCase.env },
        ...(testCase.input === undefined ? {} : { input: testCase.input }),
      });
      assertOneErrorLine(result, 2, testCase.pattern);
      assert.equal(snapshotMessages(home.home), before, 'the queue is unchanged');
    });
  }

  it('rejects a --proc module it may not read', { skip: isRoot ? 'root reads every file' : false }, async () => {
    const module = path.join(home.home, 'secret.js');
    writeFileSync(module, 'export default async () => 1;\n');
    chmodSync(module, 0o000);
    const before = snapshotMessages(home.home);
    assertOneErrorLine(await runCli(['local/keep', 'worker', '--proc', module], { env: home.env }), 2, /secret\.js/);
    assert.equal(snapshotMessages(home.home), before);
  });
});

describe('a JOBQ_HOME or database that cannot be used: one line, exit code 1, nothing touched', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('a JOBQ_HOME below a regular file', async () => {
    const file = path.join(home.home, 'a-file');
    writeFileSync(file, 'not a folder\n');
    const env = { ...home.env, JOBQ_HOME: path.join(file, 'jobq') };
    for (const args of [['local/home', 'push', '-c', 'true'], ['local/home', 'worker'], ['local/home', 'size']]) {
      assertOneErrorLine(await runCli(args, { env }), 1, /cannot open the local queue database .*ENOTDIR/);
    }
    assert.equal(readFileSync(file, 'utf8'), 'not a folder\n', 'the file is untouched');
  });

  it('a JOBQ_HOME the user may not write to', { skip: isRoot ? 'root writes everywhere' : false }, async () => {
    const locked = path.join(home.home, 'locked');
    mkdirSync(locked, { mode: 0o500 });
    const result = await runCli(['local/home', 'push', '-c', 'true'], { env: { ...home.env, JOBQ_HOME: locked } });
    assertOneErrorLine(result, 1, /cannot open the local queue database .*EACCES/);
  });

  it('a file that is not a database is refused and left as it was', async () => {
    const garbage = path.join(home.home, 'garbage');
    mkdirSync(garbage);
    const file = localDbFile(garbage);
    writeFileSync(file, Buffer.alloc(8192, 0x5a));
    const digest = fileDigest(file);
    const env = { ...home.env, JOBQ_HOME: garbage };
    // A function worker starts its threads while the queue opens: they must not keep it alive, nor hide the queue's error.
    const functions = ['--proc', `${path.join(fixturesDir, 'functions', 'cli-tasks.js')}#square`, '-n', '4'];
    for (const args of [['local/corrupt', 'push', '-c', 'true'], ['local/corrupt', 'worker'], ['local/corrupt', 'worker', ...functions], ['local/corrupt', 'size']]) {
      assertOneErrorLine(await runCli(args, { env }), 1, /cannot open the local queue database .*file is not a database/);
    }
    assert.equal(fileDigest(file), digest);
  });

  it('a database with damaged pages: commands fail with one line, a worker stops instead of retrying for ever', async () => {
    const damaged = path.join(home.home, 'damaged');
    const env = { ...home.env, JOBQ_HOME: damaged };
    const lines = Array.from({ length: 3000 }, (_, i) => `echo ${i}`).join('\n');
    assert.equal((await runCli(['local/damaged', 'push'], { env, input: lines })).code, 0);
    const file = localDbFile(damaged);
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    // Everything after the schema page: the queue's table and index.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(256 * 1024, 0x5a), 0, 256 * 1024, 4096);
    closeSync(fd);
    const digest = fileDigest(file);
    for (const args of [['local/damaged', 'size'], ['local/damaged', 'peek']]) {
      assertOneErrorLine(await runCli(args, { env }), 1, /local queue damaged: database disk image is malformed/);
    }
    const worker = await runCli(['local/damaged', 'worker', '-qq'], { env });
    assertOneErrorLine(worker, 1, /local queue damaged: database disk image is malformed/);
    assert.equal(fileDigest(file), digest);
  });
});

describe('an ACCOUNT/NAME queue with no Azure login', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('fails at its first call with one line naming the credentials tried, exit code 1, before any request', async () => {
    // A PATH with no `az`, and no AZURE_* variables: every credential of the chain is unavailable, so
    // the token is refused before a request could go out (no network here).
    const env = { ...home.env, PATH: home.home, AZURE_CLIENT_ID: '', DEFAULT_IDENTITY_CLIENT_ID: '', AZURE_TENANT_ID: '', AZURE_CLIENT_SECRET: '' };
    const result = await runCli(['jobqnologin/myqueue', 'size'], { env });
    assertOneErrorLine(result, 1, /Azure queue myqueue .*ChainedTokenCredential authentication failed.*az login.*EnvironmentCredential is unavailable/);
  });
});
