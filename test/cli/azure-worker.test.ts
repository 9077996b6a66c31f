import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, tempHome } from '../helpers/cli.js';

const azurite = await startAzurite();
after(() => azurite.stop());

describe('jobq on Azure Storage Queue (Azurite, CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };

  it('dead-letters a message that is not JSON, with the reason, and goes on with the next task', async () => {
    const out = path.join(home.home, 'azure-ran.txt');
    assert.equal((await runCli(['devstoreaccount1/mixed', 'push', '-c', `echo first >> ${out}`], { env })).code, 0);
    await new QueueClient(azurite.connectionString, 'mixed').sendMessage('not json');
    assert.equal((await runCli(['devstoreaccount1/mixed', 'push', '-c', `echo second >> ${out}`], { env })).code, 0);

    const worker = await runCli(['devstoreaccount1/mixed', 'worker'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n'), ['first', 'second']);

    const list = await runCli(['devstoreaccount1/mixed', 'dlq', 'list', '--json'], { env });
    const records = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.['task'], 'not json');
    assert.match(String(records[0]?.['error']), /invalid task: message body is not JSON/);
    assert.equal((await runCli(['devstoreaccount1/mixed', 'size'], { env })).stdout.trim(), '0');
  });

  it('refuses a task over 64 KiB at push, before anything is sent', async () => {
    const big = 'x'.repeat(70_000);
    const push = await runCli(['devstoreaccount1/bigone', 'push', '-c', 'true', '-c', `echo ${big}`], { env });
    assert.equal(push.code, 2, push.stderr);
    assert.match(push.stderr, /-c number 2: task [0-9a-f]+ is \d+ bytes as a message; the bigone queue takes at most 65536/);
    assert.equal((await runCli(['devstoreaccount1/bigone', 'size'], { env })).stdout.trim(), '0');
  });

  it('push --wait is refused before anything is pushed: Azure queues keep no results', async () => {
    const push = await runCli(['devstoreaccount1/nowait', 'push', '--wait', '-c', 'true'], { env });
    assert.equal(push.code, 2, push.stderr);
    assert.match(push.stderr, /does not keep task results; only local\/ and pg\/ queues do/);
    assert.equal((await runCli(['devstoreaccount1/nowait', 'size'], { env })).stdout.trim(), '0');
  });

  it('retries a failing task and dead-letters it with its output', async () => {
    const push = await runCli(['devstoreaccount1/retrying', 'push', '--num-retries', '1', '-c', 'echo boom; exit 4'], { env });
    assert.equal(push.code, 0, push.stderr);
    const worker = await runCli(['devstoreaccount1/retrying', 'worker', '--max-consecutive-failures', '5'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(worker.stderr.match(/failed: exit code 4/g)?.length, 2);
    const list = await runCli(['devstoreaccount1/retrying', 'dlq', 'list', '--json'], { env });
    const record = JSON.parse(list.stdout) as { exit_code: number; output: string[] };
    assert.equal(record.exit_code, 4);
    assert.deepEqual(record.output, ['boom']);
  });
});
