/**
 * jobq on PostgreSQL through the CLI, as a user runs it: the connection from
 * JOBQ_DATABASE_URL or the PG* variables alone, dead letters, retries, results
 * for push --wait, jobq migrate, and the password kept out of every place a
 * person or a task could read it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SCHEMA_VERSION } from '../../src/backends/postgres/migrations.js';
import { assertOneErrorLine, runCli, startCli, tempHome } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/paths.js';
import { testDatabase } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const db = await testDatabase();
after(() => db.drop());

const tasks = path.join(fixturesDir, 'functions', 'cli-tasks.js');

describe('jobq on PostgreSQL (CLI)', { skip: db.skip }, () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = { ...home.env, JOBQ_DATABASE_URL: db.url };
  const jobq = (...args: string[]) => runCli(args, { env });

  it('push and worker with only JOBQ_DATABASE_URL, or only the PG* variables', async () => {
    const out = path.join(home.home, 'hello.txt');
    assert.equal((await jobq('pg/demo', 'push', '-c', `echo hello >> ${out}`)).code, 0);
    const worker = await jobq('pg/demo', 'worker');
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stderr, /worker on demo \(postgres:\/\/postgres@127\.0\.0\.1:5432\/jobq_t_\w+\?schema=jobq\)/);

    const server = new URL(db.url);
    const pgEnv = {
      ...home.env,
      PGHOST: server.hostname,
      PGPORT: server.port || '5432',
      PGUSER: decodeURIComponent(server.username) || 'postgres',
      PGDATABASE: db.name,
    };
    assert.equal((await runCli(['pg/demo', 'push', '-c', `echo again >> ${out}`], { env: pgEnv })).code, 0);
    const second = await runCli(['pg/demo', 'worker'], { env: pgEnv });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['hello', 'again']);
  });

  it('dead-letters a message that is not a task, with the reason, and goes on', async () => {
    assert.equal((await jobq('pg/mixed', 'push', '-c', 'echo first')).code, 0);
    await db.query("INSERT INTO jobq.messages (queue, body) VALUES ('mixed', 'not json')");
    assert.equal((await jobq('pg/mixed', 'push', '-c', 'echo second')).code, 0);
    const worker = await jobq('pg/mixed', 'worker');
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /^first$[\s\S]*^second$/m);
    const records = (await jobq('pg/mixed', 'dlq', 'list', '--json')).stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.['task'], 'not json');
    assert.match(String(records[0]?.['error']), /invalid task: message body is not JSON/);
    assert.equal((await jobq('pg/mixed', 'size')).stdout.trim(), '0');
  });

  it('retries a failing task and dead-letters it with its output; requeue puts it back', async () => {
    assert.equal((await jobq('pg/retrying', 'push', '--num-retries', '1', '-c', 'echo boom; exit 4')).code, 0);
    const worker = await jobq('pg/retrying', 'worker', '--max-consecutive-failures', '5');
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(worker.stderr.match(/failed: exit code 4/g)?.length, 2);
    const record = JSON.parse((await jobq('pg/retrying', 'dlq', 'list', '--json')).stdout) as { exit_code: number; output: string[] };
    assert.equal(record.exit_code, 4);
    assert.deepEqual(record.output, ['boom']);
    assert.equal((await jobq('pg/retrying', 'dlq', 'requeue', '--num-retries', '0')).code, 0);
    assert.equal((await jobq('pg/retrying', 'size')).stdout.trim(), '1');
  });

  it('push --wait gets every result exactly once (2,000 function tasks at -n 4)', async () => {
    const input = Array.from({ length: 2000 }, (_, n) => JSON.stringify({ n })).join('\n');
    const producer = startCli(['pg/squares', 'push', '--wait'], { env, input });
    await producer.waitForOutput(/enqueued 2000 task/);
    const worker = await jobq('pg/squares', 'worker', '--proc', `${tasks}#square`, '-n', '4');
    assert.equal(worker.code, 0, worker.stderr.slice(-2000));
    assert.match(worker.stderr, /2000 succeeded, 0 failed/);
    const exit = await producer.exited;
    assert.equal(exit.code, 0, exit.stderr);
    const results = exit.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; ok: boolean; result: { n: number; square: number } });
    assert.equal(new Set(results.map((result) => result.id)).size, 2000);
    assert.deepEqual(
      results.map((result) => result.result.n).sort((a, b) => a - b),
      Array.from({ length: 2000 }, (_, n) => n),
    );
    assert.ok(results.every((result) => result.ok && result.result.square === result.result.n ** 2));
    assert.equal((await db.query('SELECT * FROM jobq.results')).length, 0, 'results are taken, not left behind');
  });

  it('the password never reaches a task, ps, the logs or a dead-letter record', async () => {
    const secret = 'hunter2-sEcReT';
    const url = new URL(db.url);
    url.password = secret; // trust authentication takes any password: the test server lets it through
    const marker = path.join(home.home, 'secret-probe');
    const probe =
      `env > ${marker}.env; cat /proc/$PPID/cmdline /proc/$$/cmdline > ${marker}.ps; ` +
      `ps -eo args > ${marker}.psall; echo probing; exit 3`;
    const quiet = { ...home.env, JOBQ_DATABASE_URL: url.href, DATABASE_URL: url.href, PGPASSWORD: secret };
    assert.equal((await runCli(['pg/secrets', 'push', '-c', probe], { env: quiet })).code, 0);
    // The password also on the command line (--db-url), the worst case; -vv and JSON logs show everything they show.
    const worker = await runCli(['pg/secrets', 'worker', '--db-url', url.href, '-vv', '--log-format', 'json'], { env: quiet });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /^probing$/m);
    const dlq = await runCli(['pg/secrets', 'dlq', 'list', '--json', '--db-url', url.href], { env: quiet });
    assert.match(dlq.stdout, /exit code 3/);
    const taskEnv = readFileSync(`${marker}.env`, 'utf8');
    assert.doesNotMatch(taskEnv, /^(JOBQ_DATABASE_URL|DATABASE_URL|PGPASSWORD)=/m);
    for (const [what, text] of [
      ['the task environment', taskEnv],
      ["the worker's and the task's command lines", readFileSync(`${marker}.ps`, 'utf8')],
      ['ps while the task ran', readFileSync(`${marker}.psall`, 'utf8')],
      ["the worker's log", worker.stdout + worker.stderr],
      ['the dead-letter record', dlq.stdout + dlq.stderr],
    ] as const) {
      assert.ok(!text.includes(secret), `the password is in ${what}`);
    }
    assert.match(readFileSync(`${marker}.ps`, 'utf8'), /--db-url postgres:\/\/postgres:\*\*\*@/);
  });

  it('jobq migrate creates the schema once, and says so', async () => {
    const schemaEnv = { ...env, JOBQ_PG_SCHEMA: 'by_hand' };
    const first = await runCli(['migrate'], { env: schemaEnv });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^schema by_hand of postgres://postgres@127\\.0\\.0\\.1:5432/jobq_t_\\w+ migrated from version 0 to ${SCHEMA_VERSION}$`, 'm'));
    const again = await runCli(['pg/any-queue', 'migrate'], { env: schemaEnv });
    assert.match(again.stdout, new RegExp(`schema by_hand of .* is up to date \\(version ${SCHEMA_VERSION}\\)`));
    assertOneErrorLine(await runCli(['local/any-queue', 'migrate'], { env }), 2, /local\/any-queue is not a PostgreSQL queue/);
  });

  it('bad PostgreSQL specs and settings are one line, exit 2, without the password', async () => {
    assertOneErrorLine(
      await jobq(`postgres://postgres:pw-in-spec@127.0.0.1/${db.name}/q-name`, 'size'),
      2,
      /a queue spec must not hold a password/,
    );
    assertOneErrorLine(await jobq('postgres://127.0.0.1/q-name', 'size'), 2, /expected postgres:\/\/\[USER@\]HOST\[:PORT\]\/DATABASE\/QUEUE/);
    const badMode = await runCli(['pg/q-name', 'size'], { env: { ...home.env, JOBQ_DATABASE_URL: 'postgres://u:pw-in-env@h/d?sslmode=always' } });
    assertOneErrorLine(badMode, 2, /invalid sslmode "always" \(from JOBQ_DATABASE_URL\)/);
    assert.doesNotMatch(badMode.stderr, /pw-in-env/);
  });

  it('a spec with the whole URL works the same (password from PGPASSWORD)', async () => {
    const server = new URL(db.url);
    const spec = `postgres://${server.username}@${server.host}/${db.name}/by-url`;
    const quiet = { ...home.env, PGPASSWORD: 'anything' };
    assert.equal((await runCli([spec, 'push', '-c', 'echo by url'], { env: quiet })).code, 0);
    assert.equal((await jobq('pg/by-url', 'size')).stdout.trim(), '1', 'the same queue as pg/by-url on that database');
    const worker = await runCli([spec, 'worker'], { env: quiet });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /^by url$/m);
  });

  it('an unreachable database: one clear line without the password, retried with back-off as any outage', async () => {
    const push = startCli(['pg/nowhere', 'push', '-c', 'true'], {
      env: { ...home.env, JOBQ_DATABASE_URL: 'postgres://someone:pw-unreachable@127.0.0.1:1/db?connect_timeout=3' },
    });
    await waitFor(() => (push.stderr.match(/retrying in \d+ ms/g) ?? []).length >= 2, { message: () => push.stderr });
    assert.match(push.stderr, /cannot reach the queue: PostgreSQL queue nowhere \(postgres:\/\/someone@127\.0\.0\.1:1\/db\?schema=jobq\): .*ECONNREFUSED/);
    assert.doesNotMatch(push.stderr, /pw-unreachable/);
    push.signal('SIGINT');
    const exit = await push.exited;
    assert.notEqual(exit.code, 0, 'nothing was pushed');
  });
});
