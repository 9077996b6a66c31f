/**
 * Command lines written for ai4s-jobq work unchanged (issue 11): global flags
 * before the spec, between spec and command and after the command; the
 * environment `ai4s-jobq amlt` sets; peek and clear as scripts for the
 * reference expect them; every usage error in one style. Each against local/
 * and against Azurite.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../helpers/azurite.js';
import { assertOneErrorLine, runCli, tempHome } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/paths.js';

const azurite = await startAzurite();

/** The reference's only message for the push vector `name` (test/fixtures/vectors/push.json). */
function referenceMessage(name: string): string {
  const vectors = JSON.parse(readFileSync(path.join(fixturesDir, 'vectors', 'push.json'), 'utf8')) as Array<{
    name: string;
    messages: Array<{ serialized: string }>;
  }>;
  const [message] = vectors.find((vector) => vector.name === name)?.messages ?? [];
  assert.ok(message, `no vector ${name}`);
  return message.serialized;
}
after(() => azurite.stop());

/** What `peek --json` prints: the message bodies, parsed. */
interface PeekedBody {
  version: number;
  reply_requested: boolean;
  kwargs: string;
  num_retries: number;
  id: string;
}

describe('ai4s-jobq command lines on local/ (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = home.env;
  const jobq = (...args: string[]) => runCli(args, { env });

  it('global flags work before the spec, between spec and command, and after the command', async () => {
    assert.equal((await jobq('local/flags', 'push', '-c', 'true', '-c', 'false')).code, 0);
    const lines = [
      ['-v', 'local/flags', 'size'],
      ['local/flags', '-v', 'size'],
      ['local/flags', 'size', '-v'],
      ['-qq', 'local/flags', 'size'],
      ['--queue', 'local/flags', 'size'],
      ['size', '--queue', 'local/flags'],
      ['--queue=local/flags', 'size'],
      ['local/flags', '--log-format', 'json', 'size'],
      ['--log-format=json', 'local/flags', 'size', '--log-level', 'warn'],
      ['--log-level', 'debug', 'local/flags', 'size', '-q'],
    ];
    for (const args of lines) {
      const result = await jobq(...args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout.trim(), '2', args.join(' '));
    }
  });

  it('-v and -q set how much jobq logs; -vv shows debug lines', async () => {
    await jobq('local/verbosity', 'push', '-c', 'echo task-output');
    const quiet = await jobq('-q', 'local/verbosity', 'pull');
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stderr, /INFO/);
    await jobq('local/verbosity', 'push', '-c', 'echo task-output');
    const loud = await jobq('local/verbosity', '-vv', 'pull');
    assert.match(loud.stderr, /INFO: /);
  });

  it('the spec alone, or nothing, prints the commands; the help shows jobq [SPEC] COMMAND, -v and -q', async () => {
    for (const args of [['local/flags'], [], ['-v', 'local/flags']]) {
      const result = await jobq(...args);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\$ jobq \[SPEC\] COMMAND \[FLAGS\]/);
      assert.match(result.stdout, /COMMANDS[\s\S]*push[\s\S]*worker/);
      assert.match(result.stdout, /^ {2}-v, -vv/m);
      assert.match(result.stdout, /^ {2}-q, -qq/m);
    }
    const push = await jobq('local/flags', 'push', '--help');
    assert.match(push.stdout, /\$ jobq \[SPEC\] push/);
    assert.match(push.stdout, /-c, --command=<value>/);
  });

  it('every usage error, oclif\'s own included, is one line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['local/flags', 'frobnicate'], /command frobnicate not found/],
      [['local/flags', 'size', '--frobnicate'], /Nonexistent flag: --frobnicate/],
      [['local/flags', 'peek', '-n', 'x'], /-n|number/],
      [['local/flags', 'size', '--log-format', 'yaml'], /--log-format/],
      [['local/flags', 'size', '--conn-str'], /--conn-str needs a value/],
      [['local/flags', 'size', '--queue', 'local/other'], /two queues given: local\/flags and local\/other/],
      [['local/flags', 'signal', 'shout'], /shout/],
    ];
    for (const [args, pattern] of cases) assertOneErrorLine(await jobq(...args), 2, pattern);
  });

  it('JOBQ_STORAGE and JOBQ_QUEUE name the queue as ai4s-jobq amlt sets them; JOBQ_STORAGE_QUEUE is a full spec and wins', async () => {
    const amlt = { ...env, JOBQ_STORAGE: 'local', JOBQ_QUEUE: 'fromamlt' };
    assert.equal((await runCli(['push', '-c', 'echo amlt'], { env: amlt })).code, 0);
    assert.equal((await jobq('local/fromamlt', 'size')).stdout.trim(), '1');
    const both = { ...amlt, JOBQ_STORAGE_QUEUE: 'local/fromfull' };
    assert.equal((await runCli(['push', '-c', 'echo full'], { env: both })).code, 0);
    assert.equal((await jobq('local/fromfull', 'size')).stdout.trim(), '1', 'JOBQ_STORAGE_QUEUE beats JOBQ_QUEUE');
    assert.equal((await jobq('local/fromamlt', 'size')).stdout.trim(), '1');
    const legacy = await runCli(['size'], { env: { ...env, JOBQ_QUEUE: 'local/fromamlt' } });
    assert.equal(legacy.stdout.trim(), '1', 'a JOBQ_QUEUE holding a full spec still works');
    const spec = await runCli(['local/fromfull', 'size'], { env: both });
    assert.equal(spec.stdout.trim(), '1', 'the command line beats the environment');
    assertOneErrorLine(await runCli(['size'], { env: { ...env, JOBQ_QUEUE: 'bare' } }), 2, /invalid queue spec "bare".*needs a connection string/);
    assertOneErrorLine(await runCli(['size'], { env: { ...env, JOBQ_STORAGE: 'local' } }), 2, /JOBQ_STORAGE is set \(local\) but JOBQ_QUEUE/);
  });

  it('peek: one task by default, --json as the reference prints it, exit 1 on an empty queue', async () => {
    const empty = await jobq('local/peeking', 'peek', '--json');
    assertOneErrorLine(empty, 1, /the queue peeking has no visible tasks/);
    assert.equal(empty.stdout, '');
    await jobq('local/peeking', 'push', '-c', 'echo "é"', '-c', 'echo two', '--num-retries', '1');
    assert.equal((await jobq('local/peeking', 'peek')).stdout.trim().split('\n').length, 1);
    const json = await jobq('local/peeking', 'peek', '--json', '-n', '5');
    assert.equal(json.code, 0, json.stderr);
    const bodies = JSON.parse(json.stdout) as PeekedBody[];
    assert.deepEqual(bodies.map((body) => JSON.parse(body.kwargs) as unknown), [
      { cmd: 'echo "é"', bg_dirsync_to: null, env: {} },
      { cmd: 'echo two', bg_dirsync_to: null, env: {} },
    ]);
    // Python's json.dumps(bodies, indent=2): keys in the message's order, non-ASCII escaped, two-space indents.
    const first = bodies[0] as PeekedBody;
    assert.ok(
      json.stdout.startsWith(
        '[\n  {\n    "version": 1,\n    "reply_requested": false,\n' +
          `    "kwargs": "{\\"cmd\\": \\"echo \\\\\\"\\\\u00e9\\\\\\"\\", \\"bg_dirsync_to\\": null, \\"env\\": {}}",\n` +
          `    "num_retries": 1,\n    "id": "${first.id}"\n  },\n  {\n`,
      ),
      json.stdout,
    );
    const lines = await jobq('local/peeking', 'peek', '--json-lines', '-n', '5');
    assert.equal(lines.stdout.trim().split('\n').length, 2);
  });

  it('clear in a script clears, as the reference does', async () => {
    await jobq('local/clearing', 'push', '-c', 'true');
    const clear = await jobq('local/clearing', 'clear');
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal((await jobq('local/clearing', 'size')).stdout.trim(), '0');
  });
});

describe('ai4s-jobq command lines on Azure (Azurite, CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const conn = azurite.connectionString;
  const jobq = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...home.env, ...env } });

  it('push with --conn-str before the spec, a worker with -v before it and --conn-str after the command', async () => {
    const out = path.join(home.home, 'said-hi');
    const push = await jobq(['--conn-str', conn, 'acct/hello', 'push', '-c', `echo hi >> ${out}`]);
    assert.equal(push.code, 0, push.stderr);
    const worker = await jobq(['-v', 'acct/hello', 'worker', '--conn-str', conn]);
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'hi\n');
    assert.match(worker.stderr, /worker done \(drained\): 1 succeeded/);
  });

  it('size with --conn-str between spec and command, and from JOBQ_STORAGE + JOBQ_QUEUE', async () => {
    assert.equal((await jobq(['acct/sized', 'push', '-c', 'true', '-c', 'true'], { JOBQ_CONNECTION_STRING: conn })).code, 0);
    const between = await jobq(['acct/sized', '--conn-str', conn, 'size']);
    assert.equal(between.code, 0, between.stderr);
    assert.equal(between.stdout.trim(), '2');
    const amlt = await jobq(['size', '--conn-str', conn], { JOBQ_STORAGE: 'acct', JOBQ_QUEUE: 'sized' });
    assert.equal(amlt.code, 0, amlt.stderr);
    assert.equal(amlt.stdout.trim(), '2');
  });

  it('push --command with --bg-dirsync-to stores the task as the reference does', async () => {
    const push = await jobq(['acct/synced', 'push', '--command', 'echo x', '--bg-dirsync-to', '/tmp/x'], { JOBQ_CONNECTION_STRING: conn });
    assert.equal(push.code, 0, push.stderr);
    const [message] = (await new QueueClient(conn, 'synced').peekMessages()).peekedMessageItems;
    assert.equal(message?.messageText, referenceMessage('-c with --bg-dirsync-to'));
  });

  it('clear with no terminal clears; peek --json and its exit code on an empty queue', async () => {
    const env = { JOBQ_CONNECTION_STRING: conn };
    assert.equal((await jobq(['acct/cleared', 'push', '-c', 'true', '-c', 'true'], env)).code, 0);
    assert.equal((JSON.parse((await jobq(['acct/cleared', 'peek', '--json', '-n', '5'], env)).stdout) as PeekedBody[]).length, 2);
    const clear = await jobq(['acct/cleared', 'clear'], env);
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal((await jobq(['acct/cleared', 'size'], env)).stdout.trim(), '0');
    assertOneErrorLine(await jobq(['acct/cleared', 'peek', '--json'], env), 1, /no visible tasks/);
  });
});
