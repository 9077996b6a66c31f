/**
 * A push on PostgreSQL is all or nothing (issue 12, item 3), as on local/
 * (push-resilience.test.ts), through the CLI: interrupted by Ctrl-C, with a
 * bad line in the middle, killed, or cut off from the server while it
 * stages, it leaves nothing in the queue and nothing staged; cut off as it
 * commits, it says that whether its tasks were enqueued is unknown; a push
 * larger than the heap streams through.
 */
import assert from 'node:assert/strict';
import type { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { assertOneErrorLine, runCli, startCli, tempHome } from '../helpers/cli.js';
import { stagingTables, testDatabase } from '../helpers/postgres.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { waitFor } from '../helpers/wait.js';

const db = await testDatabase();
after(() => db.drop());

const lines = (count: number, prefix: string): string => Array.from({ length: count }, (_, i) => `echo ${prefix} ${i + 1}\n`).join('');

/** Writes `text` to a pipe and resolves once it is all in the kernel's hands. */
function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}


/** More input than a push holds in memory (about 24 MB of messages), so that it stages. */
const large = (prefix: string): string => lines(120_000, `${prefix} ${'y'.repeat(40)}`);

describe('push on PostgreSQL is all or nothing (CLI)', { skip: db.skip }, () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = { ...home.env, JOBQ_DATABASE_URL: db.url };
  const size = async (queue: string): Promise<string> => (await runCli([`pg/${queue}`, 'size'], { env })).stdout.trim();
  const noneStaged = () => waitFor(async () => (await stagingTables(db)) === 0, { message: () => 'a staging table outlived its push' });

  it('Ctrl-C while it stages enqueues nothing, leaves nothing staged, and exits 130', async () => {
    const push = startCli(['pg/interrupted', 'push'], { env, keepStdinOpen: true });
    const stdin = push.child.stdin as Writable;
    stdin.on('error', () => {});
    await write(stdin, large('interrupted'));
    await waitFor(async () => (await stagingTables(db)) > 0, { message: () => `the push never staged: ${push.output}` });
    push.signal('SIGINT');
    const exit = await push.exited;
    stdin.destroy();
    assertOneErrorLine(exit, 130, /push to interrupted interrupted after \d+ task\(s\) were read: nothing was enqueued/);
    assert.equal(await size('interrupted'), '0');
    await noneStaged();
  });

  it('a bad line after more than a push holds in memory enqueues nothing and names the line', async () => {
    assert.equal((await runCli(['pg/checked', 'push', '-c', 'echo already here'], { env })).code, 0);
    const push = await runCli(['pg/checked', 'push'], { env, input: large('fine') + '{"broken": \n' + lines(1000, 'after') });
    assertOneErrorLine(push, 2, /line 120001: not valid JSON/);
    assert.equal(await size('checked'), '1');
    await noneStaged();
  });

  it('a push killed while it stages leaves nothing: the server drops what it staged with its session', async () => {
    const push = startCli(['pg/killed', 'push'], { env, keepStdinOpen: true });
    const stdin = push.child.stdin as Writable;
    stdin.on('error', () => {});
    await write(stdin, large('killed'));
    await waitFor(async () => (await stagingTables(db)) > 0, { message: () => `the push never staged: ${push.output}` });
    push.signal('SIGKILL');
    await push.exited;
    await noneStaged();
    assert.equal(await size('killed'), '0');
  });

  it('a push whose connections are cut while it stages fails in one line, with nothing enqueued', async () => {
    const name = 'jobq-test-cut-cli-push';
    const cutEnv = { ...env, JOBQ_DATABASE_URL: `${db.url}?application_name=${name}` };
    const push = startCli(['pg/cut', 'push'], { env: cutEnv, keepStdinOpen: true });
    const stdin = push.child.stdin as Writable;
    stdin.on('error', () => {});
    await write(stdin, large('cut'));
    await waitFor(async () => (await stagingTables(db)) > 0, { message: () => `the push never staged: ${push.output}` });
    await db.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db.name, name]);
    stdin.end(lines(1000, 'more'));
    assertOneErrorLine(await push.exited, 1, /push to cut failed, nothing was enqueued: PostgreSQL queue cut .*failed/);
    assert.equal(await size('cut'), '0');
    await noneStaged();
  });

  it('a push whose connection is lost as it commits says that whether its tasks were enqueued is unknown', async () => {
    const server = new URL(db.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    try {
      const proxied = new URL(db.url);
      proxied.host = `${proxy.host}:${proxy.port}`;
      const push = startCli(['pg/unknown', 'push'], { env: { ...env, JOBQ_DATABASE_URL: proxied.href }, keepStdinOpen: true });
      const stdin = push.child.stdin as Writable;
      await write(stdin, large('unknown'));
      await waitFor(async () => (await stagingTables(db)) > 0, { message: () => `the push never staged: ${push.output}` });
      // The simple query protocol sends COMMIT as its text with a NUL; nothing else this push sends contains it.
      const cut = proxy.cutOnce((chunk) => chunk.includes('COMMIT\0'));
      stdin.end();
      await cut;
      const unknown = /lost its connection while committing 120000 task\(s\): whether they were enqueued is unknown; look .* before pushing again/;
      assertOneErrorLine(await push.exited, 1, unknown);
      assert.ok(['0', '120000'].includes(await size('unknown')), 'all or nothing, whichever it was');
      await noneStaged();
    } finally {
      await proxy.close();
    }
  });

  it('streams its input: a push whose messages would not fit in the heap goes through, in order', async () => {
    // 200,000 messages of about 300 bytes: 60 MB, in a process with a 40 MB heap.
    const push = await runCli(['pg/streamed', 'push'], {
      env: { ...env, NODE_OPTIONS: '--max-old-space-size=40' },
      input: lines(200_000, 'z'.repeat(100)),
    });
    assert.equal(push.code, 0, push.stderr);
    assert.equal(await size('streamed'), '200000');
    const ends = await db.query<{ cmd: string }>(
      "(SELECT body::json->>'kwargs' AS cmd FROM jobq.messages WHERE queue = 'streamed' ORDER BY id LIMIT 1) UNION ALL " +
        "(SELECT body::json->>'kwargs' FROM jobq.messages WHERE queue = 'streamed' ORDER BY id DESC LIMIT 1)",
    );
    assert.deepEqual(
      ends.map((row) => (JSON.parse(row.cmd) as { cmd: string }).cmd.trim().split(' ').at(-1)),
      ['1', '200000'],
    );
    await noneStaged();
  });
});
