/**
 * A push either enqueues everything or says exactly what it did (issue 12,
 * item 3): on local/ it is one transaction, whether it is interrupted, hits a
 * full disk (a file-size limit, set with `ulimit -f`, makes SQLite's writes
 * fail as a full disk does) or is killed; on Azure an interrupted push says
 * how many tasks were enqueued and which line to push again from, and
 * pushing again from there enqueues every task exactly once. The queue name
 * is checked before stdin is read.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { QueueClient } from '@azure/storage-queue';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { assertOneErrorLine, runCli, startCli, tempHome, type CliResult } from '../helpers/cli.js';
import { localDbFile } from '../helpers/local-store.js';
import { cliPath } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const lines = (count: number, prefix: string): string => Array.from({ length: count }, (_, i) => `echo ${prefix} ${i + 1}\n`).join('');

/** Writes `text` to a pipe and resolves once it is all in the kernel's hands (the reader has taken all but ~64 KiB). */
function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}

/** Runs a push whose files may not grow beyond `limitBytes` (SQLite then fails as on a full disk). */
function pushWithFileSizeLimit(spec: string, input: string, limitBytes: number, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const script = `trap '' XFSZ; ulimit -f ${Math.ceil(limitBytes / 1024)}; exec "$0" "$@"`;
  const child = spawn('bash', ['-c', script, process.execPath, cliPath, spec, 'push'], {
    env: { ...process.env, JOBQ_LOG_LEVEL: undefined, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.on('error', () => {}); // the push may stop reading early
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Folds the write-ahead log into the database file, so that the file sizes are known before a limited push. */
function checkpoint(home: string): number {
  const db = new Database(localDbFile(home));
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return statSync(localDbFile(home)).size;
}

function stagedRows(home: string): number {
  const db = new Database(localDbFile(home), { readonly: true });
  try {
    return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM staged_pushes').get()?.n ?? 0;
  } finally {
    db.close();
  }
}

describe('push on local/ is all or nothing (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = home.env;
  const size = async (queue: string): Promise<string> => (await runCli([`local/${queue}`, 'size'], { env })).stdout.trim();

  before(async () => {
    assert.equal((await runCli(['local/kept', 'push', '-c', 'echo already here'], { env })).code, 0);
  });

  it('checks the queue name before it reads stdin', async () => {
    const push = startCli(['local/Not_A_Name', 'push'], { env, keepStdinOpen: true });
    assertOneErrorLine(await push.exited, 2, /invalid queue name "Not_A_Name"/);
    push.child.stdin?.destroy();
  });

  it('Ctrl-C while reading stdin enqueues nothing and exits 130', async () => {
    const push = startCli(['local/interrupted', 'push'], { env, keepStdinOpen: true });
    const stdin = push.child.stdin as Writable;
    await write(stdin, lines(20_000, 'interrupted'));
    push.signal('SIGINT');
    const exit = await push.exited;
    stdin.destroy();
    assertOneErrorLine(exit, 130, /push to interrupted interrupted after \d+ task\(s\) were read: nothing was enqueued/);
    assert.equal(await size('interrupted'), '0');
  });

  it('a full disk in the middle of a push enqueues nothing and says so', async () => {
    const before = await size('kept');
    const fileSize = checkpoint(home.home);
    const result = await pushWithFileSizeLimit('local/kept', lines(20_000, 'too many'), fileSize + 64 * 1024, env);
    assertOneErrorLine(result, 1, /push to kept failed, nothing was enqueued: local queue kept: /);
    assert.equal(await size('kept'), before);
  });

  it('the same with more input than a push holds in memory, staged in the database and then discarded', async () => {
    const before = await size('kept');
    const input = lines(120_000, 'x'.repeat(40));
    const fileSize = checkpoint(home.home);
    const result = await pushWithFileSizeLimit('local/kept', input, fileSize + 12 * 1024 * 1024, env);
    assertOneErrorLine(result, 1, /push to kept failed, nothing was enqueued/);
    assert.equal(await size('kept'), before);
    const push = await runCli(['local/kept', 'push'], { env, input });
    assert.equal(push.code, 0, push.stderr);
    assert.equal(await size('kept'), String(Number(before) + 120_000));
    assert.equal(stagedRows(home.home), 0, 'nothing staged is left behind');
  });

  it('streams its input: a push whose messages would not fit in the heap goes through', async () => {
    // 200,000 messages of about 300 bytes: 60 MB, in a process with a 40 MB heap.
    const push = await runCli(['local/streamed', 'push'], {
      env: { ...env, NODE_OPTIONS: '--max-old-space-size=40' },
      input: lines(200_000, 'z'.repeat(100)),
    });
    assert.equal(push.code, 0, push.stderr);
    assert.equal(await size('streamed'), '200000');
  });

  it('a push killed while it stages leaves nothing in the queue; the next push sweeps what it staged', async () => {
    const push = startCli(['local/killed', 'push'], { env, keepStdinOpen: true });
    const stdin = push.child.stdin as Writable;
    stdin.on('error', () => {});
    // More than a push holds in memory, so that it starts staging; then it waits for more input.
    await write(stdin, lines(120_000, 'y'.repeat(40)));
    await waitFor(() => stagedRows(home.home) > 0, { message: () => 'the push never staged anything' });
    push.signal('SIGKILL');
    await push.exited;
    assert.equal(await size('killed'), '0');
    assert.equal((await runCli(['local/killed', 'push', '-c', 'echo after'], { env })).code, 0);
    assert.equal(await size('killed'), '1');
    assert.equal(stagedRows(home.home), 0, 'the dead push\'s rows were swept');
  });
});

describe('push on Azure says exactly what it enqueued (Azurite, CLI)', () => {
  let azurite: Azurite;
  const home = tempHome();
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    home.cleanup();
    await azurite.stop();
  });

  it('a bad last line means nothing is sent', async () => {
    const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };
    const push = await runCli(['acct/checked', 'push'], { env, input: lines(3000, 'fine') + '{"broken": \n' });
    assertOneErrorLine(push, 2, /line 3001: not valid JSON/);
    assert.equal((await runCli(['acct/checked', 'size'], { env })).stdout.trim(), '0');
  });

  it('Ctrl-C while sending: the count and the line to resume from are exact, and resuming enqueues each task once', async () => {
    const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };
    const total = 4000;
    const input = lines(total, 'task');
    const client = new QueueClient(azurite.connectionString, 'resumed');
    const push = startCli(['acct/resumed', 'push', '--num-workers', '2'], { env, input });
    await waitFor(async () => ((await client.getProperties().catch(() => undefined))?.approximateMessagesCount ?? 0) >= 50, {
      message: () => `nothing was sent: ${push.output}`,
    });
    push.signal('SIGINT');
    const exit = await push.exited;
    assertOneErrorLine(exit, 130, /push to resumed interrupted: \d+ of 4000 task\(s\) were enqueued; push again from line \d+/);
    const report = /: (\d+) of 4000 task\(s\) were enqueued; push again from line (\d+) \(tail -n \+(\d+) of the input\)(?:, skipping (.*), which (?:is|are) enqueued already)?$/.exec(
      exit.stderr.trim(),
    );
    assert.ok(report, exit.stderr);
    const [, enqueued, resumeLine, tailLine, skipped] = report;
    assert.equal(resumeLine, tailLine);
    assert.ok(Number(enqueued) < total, 'stopped part way');
    assert.equal((await client.getProperties()).approximateMessagesCount, Number(enqueued), 'the count is exact');
    const skip = new Set((skipped ?? '').split(', ').filter(Boolean).map((origin) => Number(origin.replace('line ', ''))));
    const rest = input
      .split('\n')
      .slice(Number(resumeLine) - 1, total)
      .filter((_, index) => !skip.has(Number(resumeLine) + index))
      .map((line) => `${line}\n`)
      .join('');
    const resume = await runCli(['acct/resumed', 'push'], { env, input: rest });
    assert.equal(resume.code, 0, resume.stderr);

    const seen = new Map<string, number>();
    for (;;) {
      const { receivedMessageItems: received } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (received.length === 0) break;
      for (const message of received) {
        const cmd = (JSON.parse((JSON.parse(message.messageText) as { kwargs: string }).kwargs) as { cmd: string }).cmd;
        seen.set(cmd, (seen.get(cmd) ?? 0) + 1);
      }
    }
    assert.equal(seen.size, total, 'every task is there');
    assert.deepEqual([...seen.values()].filter((count) => count !== 1), [], 'each exactly once');
  });
});
