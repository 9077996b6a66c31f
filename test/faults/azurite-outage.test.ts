/**
 * Backend faults on Azurite: the server goes away while workers run (they
 * retry with backoff, say so in one line, lose nothing and recover on their
 * own), and a heartbeat that finds the lease gone (the task is cancelled and
 * not settled).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, startCli, tempHome, type CliProcess } from '../helpers/cli.js';
import { accountDuplicates } from '../helpers/duplicates.js';
import { pidsWithEnv } from '../helpers/processes.js';
import { recordedTasks } from '../helpers/recorded-runs.js';
import { waitFor } from '../helpers/wait.js';

const azurite = await startAzurite({ persistent: true });
after(() => azurite.stop());

/** What a backend error's log line says (no `g`: `test` stays stateless; `count` adds it). */
const backendErrors = /cannot reach the queue|heartbeat failed|could not settle/;

describe('Azurite faults (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };

  it('workers ride out a server outage longer than their leases: nothing lost, they recover by themselves', async (t) => {
    const spec = 'devstoreaccount1/outage';
    const tasks = recordedTasks(home.home);
    const count = 40;
    const lines = Array.from({ length: count }, (_, n) => tasks.command(n, 0.2)).join('\n');
    assert.equal((await runCli([spec, 'push'], { env, input: lines })).code, 0);
    const args = [spec, 'worker', '-n', '2', '--visibility-timeout', '4s', '--log-format', 'json'];
    const workers = ['0', '1'].map((id) => startCli(args, { env: { ...env, JOBQ_TEST_WORKER: id } }));
    await waitFor(() => tasks.runs().length >= 8, { timeoutMs: 60_000, message: () => 'no task ran before the outage' });

    await azurite.down();
    // Each failed call takes the SDK's retries (seconds): a settle, then a lease, outlast the 4 s leases.
    await waitFor(() => workers.every((worker) => worker.count(/cannot reach the queue/g) >= 1), {
      timeoutMs: 90_000,
      message: () => `workers did not notice the outage:\n${workers.map((w) => w.stderr).join('\n')}`,
    });
    const doneBeforeRecovery = tasks.runs().length;
    await azurite.up();

    const exits = await Promise.all(workers.map((worker) => worker.exited));
    for (const exit of exits) assert.equal(exit.code, 0, exit.stderr);
    const runs = tasks.runs();
    assert.ok(runs.length > doneBeforeRecovery, 'work went on after the server came back');
    assert.deepEqual(
      [...new Set(runs.map((run) => run.number))].sort((a, b) => a - b),
      Array.from({ length: count }, (_, n) => n),
      'every task completed',
    );
    assert.equal((await runCli([spec, 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli([spec, 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
    const duplicates = accountDuplicates(
      runs,
      workers.map((worker, index) => ({ id: String(index), killed: false, slots: 2, log: worker.stderr })),
    );
    t.diagnostic(`backend errors logged: ${workers.map((w) => w.count(backendErrors)).join(', ')}; duplicates: ${JSON.stringify(duplicates)}`);
    assert.equal(duplicates.unexplained, 0, JSON.stringify(duplicates));
    for (const worker of workers) assertClearErrors(worker);
    assert.ok(workers.every((worker) => /retrying in \d+ ms/.test(worker.stderr)), 'they say when they retry');
    assert.deepEqual(pidsWithEnv('JOBQ_QUEUE_NAME', 'outage'), [], 'no task process left');
  });

  it('a heartbeat that finds the lease gone cancels the task and does not settle it', async () => {
    const spec = 'devstoreaccount1/heartbeat';
    const cmd = "trap 'echo heard-term; exit 0' TERM; echo ready; sleep 30 & wait";
    assert.equal((await runCli([spec, 'push', '-c', cmd], { env })).code, 0);
    const worker = startCli([spec, 'worker', '--visibility-timeout', '2s', '--max-consecutive-failures', '0'], { env });
    await worker.waitForOutput(/^ready$/m);
    // The message disappears under the running task: its next extension is refused (404).
    await new QueueClient(azurite.connectionString, 'heartbeat').clearMessages();
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.output, /^heard-term$[\s\S]*lost its lease: cancelled, not settled/m);
    assert.match(worker.output, /0 succeeded, 0 failed, 0 released/);
    assert.doesNotMatch(worker.output, /could not settle|goes back to the queue/);
    assert.equal((await runCli([spec, 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
    assert.equal((await runCli([spec, 'size'], { env })).stdout.trim(), '0');
  });
});

/** Every backend error is one log line that names the queue and the cause. */
function assertClearErrors(worker: CliProcess): void {
  const errors = worker.stderr
    .split('\n')
    .filter((line) => backendErrors.test(line))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);
  assert.ok(errors.length > 0, 'the outage was logged');
  for (const message of errors) {
    assert.match(message, /outage/, `names the queue: ${message}`);
    assert.match(message, /ECONNREFUSED|socket hang up|ECONNRESET|lease is gone/, `names the cause: ${message}`);
  }
}
