import assert from 'node:assert/strict';
import { ChainedTokenCredential, ManagedIdentityCredential } from '@azure/identity';
import { QueueClient } from '@azure/storage-queue';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { azureCredential } from '../../src/backends/azure-credential.js';
import { openAzureBackend } from '../../src/backends/azure.js';
import type { QueueTarget } from '../../src/backends/spec.js';
import { hasCode } from '../../src/errors.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { startAzurite } from '../helpers/azurite.js';
import { backendContract } from './contract.js';

const azurite = await startAzurite();
after(() => azurite.stop());

type ConnectionStringTarget = Extract<QueueTarget, { kind: 'azure-connection-string' }>;

function target(name: string, connectionString = azurite.connectionString): ConnectionStringTarget {
  return { kind: 'azure-connection-string', name, connectionString };
}

/** Checks a rejection is a one-line BackendError whose message matches every pattern. */
function isBackendError(...patterns: RegExp[]): (err: unknown) => boolean {
  return (err) => {
    assert.ok(hasCode(err, 'BACKEND'), `expected BACKEND, got ${String(err)}`);
    const message = (err as Error).message;
    assert.doesNotMatch(message, /\n/);
    for (const pattern of patterns) assert.match(message, pattern);
    return true;
  };
}

backendContract('azure (Azurite)', async () => {
  const backend = openAzureBackend(target('contract'));
  return { backend, cleanup: () => backend.close() };
});

describe('azure backend', () => {
  it('a body that is not JSON comes back from JobQueue.lease as invalid', async () => {
    const jobs = await JobQueue.open(target('not-json'));
    try {
      await new QueueClient(azurite.connectionString, 'not-json').sendMessage('not json');
      const [message, ...rest] = await jobs.lease(1, 60_000);
      assert.equal(rest.length, 0);
      assert.ok(message);
      assert.equal(message.task, undefined);
      assert.equal(message.invalid?.code, 'INVALID_TASK');
      assert.equal(message.lease.body, 'not json');
    } finally {
      await jobs.close();
    }
  });

  it('describes itself without the account key', () => {
    const backend = openAzureBackend(target('described'));
    assert.equal(backend.description, `azure:http://127.0.0.1:${azurite.port}/devstoreaccount1`);
  });

  it('a bad connection string is a usage error that does not repeat the key', () => {
    assert.throws(
      () => openAzureBackend(target('bad', 'AccountName=someone;AccountKey=sEcReTkEy')),
      (err: unknown) => {
        assert.ok(hasCode(err, 'USAGE'), String(err));
        assert.doesNotMatch((err as Error).message, /sEcReTkEy/);
        return true;
      },
    );
  });

  it('a wrong account key is a one-line BackendError naming the queue', async () => {
    const wrongKey = azurite.connectionString.replace(/AccountKey=[^;]+/, 'AccountKey=d3Jvbmcga2V5');
    const queue = openAzureBackend(target('badkey', wrongKey)).queue('badkey');
    await assert.rejects(queue.size(), isBackendError(/badkey/, /HTTP 403/));
  });

  it('an unreachable server is a one-line BackendError naming the queue', async () => {
    const closedPort = azurite.connectionString.replace(`:${azurite.port}/`, ':1/');
    const queue = openAzureBackend(target('nobody', closedPort)).queue('nobody');
    await assert.rejects(queue.size(), isBackendError(/nobody/, /ECONNREFUSED/));
  });

  it('keeps working across a server restart (its keep-alive sockets break)', async () => {
    const queue = openAzureBackend(target('restarted')).queue('restarted');
    await queue.create();
    await queue.push(['before']);
    await azurite.restart();
    // Azurite keeps nothing in memory across the restart.
    await queue.create();
    await queue.push(['after']);
    const leases = await queue.lease(5, 60_000);
    assert.deepEqual(
      leases.map((lease) => lease.body),
      ['after'],
    );
  });

  it('a process that used the backend exits on its own', async () => {
    const moduleUrl = new URL('../../src/backends/azure.js', import.meta.url).href;
    const script = `
      import { openAzureBackend } from ${JSON.stringify(moduleUrl)};
      const backend = openAzureBackend(${JSON.stringify(target('exits'))});
      const queue = backend.queue('exits');
      await queue.create();
      await queue.push(['x']);
      const [lease] = await queue.lease(1, 60000);
      await queue.complete(lease);
      await backend.close();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '--eval', script], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    try {
      const [code] = (await once(child, 'exit', { signal: AbortSignal.timeout(30_000) })) as [number | null];
      assert.equal(code, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('picks the credential as SPEC §3 says', () => {
    assert.ok(azureCredential({ AZURE_CLIENT_ID: 'abc' }) instanceof ManagedIdentityCredential);
    assert.ok(azureCredential({ DEFAULT_IDENTITY_CLIENT_ID: 'abc' }) instanceof ManagedIdentityCredential);
    assert.ok(azureCredential({}) instanceof ChainedTokenCredential);
  });
});
