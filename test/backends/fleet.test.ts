import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openAzureBackend } from '../../src/backends/azure.js';
import { fleetTableName } from '../../src/backends/azure-fleet.js';
import { openSqliteBackend } from '../../src/backends/sqlite.js';
import { hasCode } from '../../src/errors.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { startAzurite } from '../helpers/azurite.js';
import { attempt, fleetContract } from './fleet-contract.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'jobq-fleet-'));
const azurite = await startAzurite();
after(async () => {
  await azurite.stop();
  await rm(dir, { recursive: true, force: true });
});

fleetContract('sqlite', async () => {
  const backend = openSqliteBackend(path.join(dir, 'jobq.db'));
  return { backend, cleanup: () => backend.close() };
});

fleetContract('azure (Azurite tables)', async () => {
  const backend = openAzureBackend({ kind: 'azure-connection-string', name: 'fleet', connectionString: azurite.connectionString });
  return { backend, cleanup: () => backend.close() };
});

describe('Azure fleet tables', () => {
  it('are named after the queue, hyphens out, told apart by a hash when there were some', () => {
    assert.equal(fleetTableName('jobs'), 'jqjobs');
    assert.match(fleetTableName('my-jobs'), /^jqmyjobs[0-9a-f]{6}$/);
    assert.notEqual(fleetTableName('my-jobs'), fleetTableName('myjobs'));
    assert.ok(fleetTableName('a'.repeat(55).replace(/a(?=a{10}$)/, '-')).length <= 63);
  });

  it('a connection string without a TableEndpoint gives one clear error, and the settle goes on', async () => {
    const queueOnly = azurite.connectionString.replace(/TableEndpoint=[^;]*;/, '');
    const queue = await JobQueue.open('x/notables', { connectionString: queueOnly });
    try {
      const failures: unknown[] = [];
      queue.fleet.onError((err) => failures.push(err));
      queue.fleet.record(attempt('t', 'succeeded', 0));
      await queue.fleet.flushHistory();
      assert.equal(failures.length, 1);
      assert.ok(hasCode(failures[0], 'BACKEND'));
      assert.match((failures[0] as Error).message, /names no TableEndpoint/);
    } finally {
      await queue.close();
    }
  });
});
