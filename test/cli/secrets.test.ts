/**
 * jobq's own secrets never reach a task: not the storage connection string,
 * the database URL or password, nor Azure's client secret, in a task's
 * environment, its output or its dead-letter record (unless the task's own
 * env sets one). `--conn-str-file` and JOBQ_CONNECTION_STRING_FILE keep the
 * key off every command line.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../helpers/azurite.js';
import { assertOneErrorLine, runCli, startCli, tempHome } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/paths.js';

const azurite = await startAzurite();
after(() => azurite.stop());

/** The account key of the Azurite connection string: what must never show. */
const accountKey = /AccountKey=([^;]+)/.exec(azurite.connectionString)?.[1] ?? '';
const secrets = {
  AZURE_CLIENT_SECRET: 'azure-client-secret-value',
  DATABASE_URL: 'postgres://u:database-url-password@127.0.0.1/db',
  JOBQ_DATABASE_URL: 'postgres://u:jobq-database-url-password@127.0.0.1/db',
  PGPASSWORD: 'pgpassword-value',
};
const secretValues = [accountKey, 'UseDevelopmentStorage', ...Object.values(secrets)];

function assertNoSecret(text: string, where: string): void {
  assert.ok(accountKey.length > 20, 'the key to look for');
  for (const value of secretValues) assert.ok(!text.includes(value), `${where} holds ${value.slice(0, 12)}…:\n${text}`);
  assert.doesNotMatch(text, /JOBQ_CONNECTION_STRING/, where);
}

describe("jobq's secrets and the tasks it runs", () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = { ...home.env, ...secrets, JOBQ_CONNECTION_STRING: azurite.connectionString };

  it("a shell task's env, its output and its dead-letter record hold none of them", async () => {
    const spec = 'devstoreaccount1/secrets';
    const push = await runCli([spec, 'push', '-c', 'env; echo env-listed; exit 3'], { env });
    assert.equal(push.code, 0, push.stderr);
    const worker = await runCli([spec, 'worker', '--max-consecutive-failures', '5'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout + worker.stderr, /JOBQ_TASK_ID=[0-9a-f]{32}/, 'the task listed its environment');
    assertNoSecret(worker.stdout + worker.stderr, "the worker's output");
    const dlq = await runCli([spec, 'dlq', 'list', '--json'], { env });
    assert.match(dlq.stdout, /JOBQ_TASK_ID=[0-9a-f]{32}/, 'the output tail holds the environment');
    assert.match(dlq.stdout, /env-listed/);
    assertNoSecret(dlq.stdout, 'the dead-letter record');
  });

  it("a task whose own env sets one gets its own value", async () => {
    const spec = 'devstoreaccount1/own';
    const cmd = 'echo "secret=$AZURE_CLIENT_SECRET pg=${PGPASSWORD:-unset}"';
    assert.equal((await runCli([spec, 'push', '-c', cmd, '-e', 'AZURE_CLIENT_SECRET=the-task-own'], { env })).code, 0);
    const worker = await runCli([spec, 'worker'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout + worker.stderr, /secret=the-task-own pg=unset/);
  });

  it("a function task's process.env holds none of them", async () => {
    const local = { ...home.env, ...secrets };
    const names = ['PATH', 'JOBQ_CONNECTION_STRING', ...Object.keys(secrets)];
    assert.equal((await runCli(['local/fn-secrets', 'push'], { env: local, input: `${JSON.stringify({ names })}\n` })).code, 0);
    const proc = `${path.join(fixturesDir, 'functions', 'cli-tasks.js')}#envNames`;
    const worker = await runCli(['local/fn-secrets', 'worker', '--proc', proc], { env: local });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stderr + worker.stdout, /env has: PATH$/m);
  });

  it('--conn-str-file and JOBQ_CONNECTION_STRING_FILE: the key on no command line and in no task', async () => {
    const file = path.join(home.home, 'connection-string');
    writeFileSync(file, `${azurite.connectionString}\n`, { mode: 0o600 });
    const spec = 'devstoreaccount1/from-file';
    const noKey = { ...home.env, ...secrets };
    assert.equal((await runCli([spec, 'push', '--conn-str-file', file, '-c', 'echo ready; env; sleep 1'], { env: noKey })).code, 0);
    const worker = startCli([spec, 'worker', '--conn-str-file', file], { env: noKey });
    await worker.waitForOutput(/^ready$/m);
    const cmdline = readFileSync(`/proc/${worker.child.pid}/cmdline`, 'utf8');
    assert.ok(cmdline.includes(file) && !cmdline.includes(accountKey), 'the command line names the file, not the key');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.match(exit.stdout + exit.stderr, /JOBQ_TASK_ID=/);
    assertNoSecret(exit.stdout + exit.stderr, "the task's environment");

    const viaEnv = { ...noKey, JOBQ_CONNECTION_STRING_FILE: file };
    assert.equal((await runCli([spec, 'push', '-c', 'env'], { env: viaEnv })).code, 0);
    const second = await runCli([spec, 'worker'], { env: viaEnv });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout + second.stderr, /JOBQ_TASK_ID=/);
    assertNoSecret(second.stdout + second.stderr, "the task's environment");
    assert.ok(!(second.stdout + second.stderr).includes(file), 'nor where the key is');
  });

  // Needs '--conn-str-file' in src/cli/argv.ts's globalValueFlags, so that the entry point moves it as it moves --conn-str.
  it('--conn-str-file before the spec, as every global flag may stand', async () => {
    const file = path.join(home.home, 'connection-string-first');
    writeFileSync(file, `${azurite.connectionString}\n`, { mode: 0o600 });
    const size = await runCli(['--conn-str-file', file, 'devstoreaccount1/first', 'size'], { env: home.env });
    assert.equal(size.code, 0, size.stderr);
    assert.equal(size.stdout.trim(), '0');
  });

  it('a connection string file that cannot be read, or is empty: one line, exit 2', async () => {
    const missing = path.join(home.home, 'no-such-file');
    assertOneErrorLine(await runCli(['x/queue', 'size', '--conn-str-file', missing], { env: home.env }), 2, /cannot read the connection string file .*no-such-file \(--conn-str-file\): ENOENT/);
    const empty = path.join(home.home, 'empty');
    writeFileSync(empty, '\n');
    assertOneErrorLine(await runCli(['x/queue', 'size'], { env: { ...home.env, JOBQ_CONNECTION_STRING_FILE: empty } }), 2, /connection string file .*empty \(JOBQ_CONNECTION_STRING_FILE\) is empty/);
  });
});
