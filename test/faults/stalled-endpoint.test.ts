/**
 * A storage endpoint that accepts connections and never answers (a stalled
 * proxy, a half-open connection after a network change), or answers 429:
 * every call has a deadline, so push, a worker starting and a running worker
 * each say so in one clear line within 60 s; a running worker goes on by
 * itself once the endpoint answers again, and so does opening a queue with
 * the outage retry (what `worker`, `pull` and `push` use at start-up).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, startCli, tempHome, type CliProcess } from '../helpers/cli.js';
import { startFaultyEndpoint, type FaultyEndpoint } from '../helpers/faulty-endpoint.js';
import { recordedTasks } from '../helpers/recorded-runs.js';
import { waitFor } from '../helpers/wait.js';
import { retryThroughOutages } from '../../src/backends/outage-retry.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { errorMessage } from '../../src/errors.js';

/** What the issue asks: a clear line within a minute of the stall. */
const CLEAR_LINE_WITHIN_MS = 60_000;
const noAnswer = /no answer within 20 s/;

const azurite = await startAzurite();
after(() => azurite.stop());

/** Waits for `cli` to exit, killing it and failing after `timeoutMs`. */
async function exitOf(cli: CliProcess, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const result = await Promise.race([cli.exited, late]);
  clearTimeout(timer);
  if (result !== 'late') return result.code;
  cli.signal('SIGKILL');
  await cli.exited;
  return assert.fail(`still running after ${timeoutMs} ms:\n${cli.output.slice(-2000)}`);
}

describe('a storage endpoint that stalls', () => {
  const home = tempHome();
  let endpoint: FaultyEndpoint;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    endpoint = await startFaultyEndpoint(azurite, { kind: 'proxy' });
    env = { ...home.env, JOBQ_CONNECTION_STRING: endpoint.connectionString, JOBQ_TEST_WORKER: '0' };
  });
  after(async () => {
    await endpoint.close();
    home.cleanup();
  });

  it('a running worker says so within 60 s and finishes every task once the endpoint answers again', async () => {
    const spec = 'devstoreaccount1/stalled';
    const tasks = recordedTasks(home.home);
    const count = 30;
    const lines = Array.from({ length: count }, (_, n) => tasks.command(n, 0.2)).join('\n');
    assert.equal((await runCli([spec, 'push'], { env, input: lines })).code, 0);
    const worker = startCli([spec, 'worker', '-n', '2', '--visibility-timeout', '10s'], { env });
    await waitFor(() => tasks.runs().length >= 4, { timeoutMs: 60_000, message: () => `no task ran:\n${worker.output}` });

    endpoint.setMode({ kind: 'stall' });
    const stalledAt = Date.now();
    await worker.waitForOutput(noAnswer, CLEAR_LINE_WITHIN_MS);
    assert.ok(Date.now() - stalledAt < CLEAR_LINE_WITHIN_MS);
    assert.match(worker.stderr, /(cannot reach the queue|could not settle|heartbeat failed).*stalled.*no answer within 20 s/);
    endpoint.setMode({ kind: 'proxy' });

    assert.equal(await exitOf(worker, 180_000), 0, worker.stderr.slice(-2000));
    const done = new Set(tasks.runs().map((run) => run.number));
    assert.equal(done.size, count, 'every task ran');
    assert.equal((await runCli([spec, 'size'], { env })).stdout.trim(), '0');
  });

  it('push and a worker starting during the stall each say so in one line within 60 s', async () => {
    endpoint.setMode({ kind: 'stall' });
    try {
      for (const args of [['devstoreaccount1/stalled-start', 'push', '-c', 'true'], ['devstoreaccount1/stalled-start', 'worker']]) {
        const started = Date.now();
        const cli = startCli(args, { env });
        await cli.waitForOutput(noAnswer, CLEAR_LINE_WITHIN_MS);
        assert.ok(Date.now() - started < CLEAR_LINE_WITHIN_MS);
        assert.match(cli.stderr, /Azure queue stalled-start .*create the queue failed: no answer within 20 s/);
        cli.signal('SIGKILL');
        await cli.exited;
      }
    } finally {
      endpoint.setMode({ kind: 'proxy' });
    }
  });

  for (const [name, args] of [
    ['a worker', ['devstoreaccount1/late-start', 'worker']],
    ['push', ['devstoreaccount1/late-start', 'push', '-c', 'echo pushed-late']],
  ] as const) {
    it(`${name} started during a stall or a 429 says so, waits, and goes on once the endpoint answers`, async () => {
      for (const fault of [{ kind: 'stall' }, { kind: 'status', status: 429 }] as const) {
        endpoint.setMode(fault);
        const cli = startCli([...args], { env });
        try {
          await waitFor(
            () => {
              if (/cannot reach the queue: .*late-start.*; retrying in \d+ ms/.test(cli.output)) return true;
              if (cli.child.exitCode !== null) assert.fail(`exited ${cli.child.exitCode} instead of retrying:\n${cli.output}`);
              return false;
            },
            { timeoutMs: CLEAR_LINE_WITHIN_MS, message: () => `no retry line:\n${cli.output}` },
          );
        } finally {
          endpoint.setMode({ kind: 'proxy' });
        }
        assert.equal(await exitOf(cli, 120_000), 0, cli.stderr.slice(-2000));
      }
    });
  }

  it('opening a queue with the outage retry waits out a stall and a 429, then goes on', async () => {
    for (const fault of [{ kind: 'stall' }, { kind: 'status', status: 429 }] as const) {
      endpoint.setMode(fault);
      const failures: string[] = [];
      const opening = retryThroughOutages(
        () => JobQueue.open('devstoreaccount1/reopened', { connectionString: endpoint.connectionString }),
        { onRetry: (err) => failures.push(errorMessage(err)), firstDelayMs: 100, maxDelayMs: 500 },
      );
      await waitFor(() => failures.length >= 1, { timeoutMs: CLEAR_LINE_WITHIN_MS, message: () => 'no failure reported' });
      endpoint.setMode({ kind: 'proxy' });
      const queue = await opening;
      try {
        assert.equal(await queue.size(), 0);
      } finally {
        await queue.close();
      }
      assert.match(failures[0] ?? '', fault.kind === 'stall' ? noAnswer : /HTTP 429/);
    }
  });
});
