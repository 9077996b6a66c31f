/**
 * The queue disappears under a running worker: an Azure queue deleted
 * (404 QueueNotFound), or the local database file deleted or replaced. Waiting
 * cannot bring either back, so the worker stops its tasks and exits 1 with one
 * line that says what happened, instead of retrying (Azure) or writing into a
 * file nobody else sees (local) for ever.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { startAzurite } from '../helpers/azurite.js';
import { startCli, runCli, tempHome, type CliProcess } from '../helpers/cli.js';
import { localDbFile } from '../helpers/local-store.js';

const azurite = await startAzurite();
after(() => azurite.stop());

/** Long enough for a loaded machine; the task sleeps far longer, and a worker that does not notice never exits. */
const NOTICE_WITHIN_MS = 60_000;

/** The worker's exit code and its one error line (log lines may come after it). */
async function exitOf(cli: CliProcess): Promise<{ code: number | null; errorLine: string }> {
  const result = await cli.exitedWithin(NOTICE_WITHIN_MS, () => `the worker did not stop within ${NOTICE_WITHIN_MS} ms:\n${cli.output.slice(-2000)}`);
  const errorLines = result.stderr.split('\n').filter((line) => line.startsWith('jobq: error: '));
  assert.equal(errorLines.length, 1, result.stderr);
  return { code: result.code, errorLine: errorLines[0] ?? '' };
}

/** A long task that says when it is stopped, then an idle slot that looks at the queue. */
const longTask = "trap 'echo stopped; exit 0' TERM; echo ready; sleep 600 & wait";

describe('the queue disappears under a running worker', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('an Azure queue deleted: the worker stops with one line that says so, exit 1', async () => {
    const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };
    assert.equal((await runCli(['devstoreaccount1/doomed', 'push', '-c', longTask], { env })).code, 0);
    const worker = startCli(['devstoreaccount1/doomed', 'worker', '-n', '2'], { env });
    await worker.waitForOutput(/ready/);
    await new QueueClient(azurite.connectionString, 'doomed').delete();
    const { code, errorLine } = await exitOf(worker);
    assert.equal(code, 1, worker.output);
    assert.match(errorLine, /^jobq: error: Azure queue doomed .*the queue does not exist \(HTTP 404 QueueNotFound\): it was deleted/);
    assert.match(worker.output, /stopped/, 'the running task was stopped');
  });

  for (const [how, remove] of [
    ['deleted', (file: string) => ['', '-wal', '-shm'].forEach((suffix) => rmSync(file + suffix, { force: true }))],
    ['replaced', (file: string) => {
      writeFileSync(`${file}.new`, '');
      renameSync(`${file}.new`, file);
    }],
  ] as const) {
    it(`the local database file ${how}: the worker stops with one line that says so, exit 1`, async () => {
      const own = tempHome();
      try {
        assert.equal((await runCli(['local/doomed', 'push', '-c', longTask], { env: own.env })).code, 0);
        const worker = startCli(['local/doomed', 'worker', '-n', '2'], { env: own.env });
        await worker.waitForOutput(/ready/);
        remove(localDbFile(own.home));
        const { code, errorLine } = await exitOf(worker);
        assert.equal(code, 1, worker.output);
        assert.match(errorLine, new RegExp(`^jobq: error: local queue doomed: the database .*jobq\\.db was ${how}`));
        assert.match(worker.output, /stopped/, 'the running task was stopped');
      } finally {
        own.cleanup();
      }
    });
  }
});
