/**
 * A worker whose storage is a round trip away (Azurite behind a proxy that
 * adds 10 ms each way, as a storage account in a VM's region) keeps its
 * slot busy by overlapping its storage calls instead of waiting on them: one
 * slot of no-op tasks has many deletes in flight at once, and leases ahead
 * while they are. At the end it asks for the queue's size only once its own
 * deletes are written (before, the answer cannot be 0). Counted at the
 * proxy, never timed.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { repoRoot } from '../helpers/paths.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const TASKS = 300;
const noopTask = path.join(repoRoot, 'dist', 'src', 'measure', 'noop-task.js');

/** What a request line to the queue service is: a delete of a message, a lease (a receive), a read of the queue's size, or something else. */
function kind(requestLine: string): 'delete' | 'lease' | 'size' | 'other' {
  if (requestLine.startsWith('DELETE ') && requestLine.includes('/messages/')) return 'delete';
  if (requestLine.startsWith('GET ') && /\/messages\?.*numofmessages=/i.test(requestLine)) return 'lease';
  if (requestLine.startsWith('GET ') && requestLine.includes('comp=metadata')) return 'size';
  return 'other';
}

describe('a worker 10 ms from its storage (Azurite behind a proxy)', () => {
  let azurite: Azurite;
  let proxies: TcpProxy[] = [];
  let connectionString: string;
  const home = tempHome();

  before(async () => {
    azurite = await startAzurite();
    proxies = await Promise.all([azurite.port, azurite.tablePort].map((port) => startTcpProxy({ host: '127.0.0.1', port }, { latencyMs: 10 })));
    const [queueProxy, tableProxy] = proxies;
    assert.ok(queueProxy && tableProxy);
    connectionString = azurite.connectionString
      .replace(`:${azurite.port}/`, `:${queueProxy.port}/`)
      .replace(`:${azurite.tablePort}/`, `:${tableProxy.port}/`);
  });
  after(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await azurite.stop();
    home.cleanup();
  });

  /** Pushes TASKS no-op function tasks to `queue`, straight to Azurite. */
  async function push(queue: string): Promise<void> {
    const input = Array.from({ length: TASKS }, (_, i) => JSON.stringify({ i })).join('\n');
    const pushed = await runCli([queue, 'push'], { env: { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString }, input });
    assert.equal(pushed.code, 0, pushed.stderr);
  }

  it('one slot has more than two deletes in flight at once, and leases ahead while they are', async () => {
    await push('x/overlap');

    const peak = { deletes: 0, leaseWithDeletes: 0 };
    const stop = proxies[0]?.watchRequests((inFlight) => {
      const kinds = inFlight.map(kind);
      const deleting = kinds.filter((k) => k === 'delete').length;
      peak.deletes = Math.max(peak.deletes, deleting);
      if (kinds.includes('lease')) peak.leaseWithDeletes = Math.max(peak.leaseWithDeletes, deleting);
    });
    const env = { ...home.env, JOBQ_CONNECTION_STRING: connectionString };
    const worker = await runCli(['x/overlap', 'worker', '-n', '1', '--proc', noopTask], { env });
    stop?.();
    assert.equal(worker.code, 0, worker.stderr.slice(-2000));
    assert.match(worker.stderr, new RegExp(`${TASKS} succeeded, 0 failed`));
    assert.equal((await runCli(['x/overlap', 'size'], { env })).stdout.trim(), '0');
    // A slot that waited on each delete would have one in flight (two, when the next task settles before the last is written).
    assert.ok(peak.deletes > 2, `at most ${peak.deletes} delete(s) in flight at once`);
    assert.ok(peak.leaseWithDeletes > 0, 'no lease call went out while deletes were in flight');
  });

  it('reads the queue\'s size at the end only once its own deletes are written', async () => {
    await push('x/ends');
    const seen = { sizeReads: 0, sizeBesideDeletes: 0 };
    let reading = false;
    const stop = proxies[0]?.watchRequests((inFlight) => {
      const kinds = inFlight.map(kind);
      const readingNow = kinds.includes('size');
      if (readingNow && !reading) seen.sizeReads += 1;
      if (readingNow && kinds.includes('delete')) seen.sizeBesideDeletes += 1;
      reading = readingNow;
    });
    const env = { ...home.env, JOBQ_CONNECTION_STRING: connectionString };
    const worker = await runCli(['x/ends', 'worker', '-n', '4', '--proc', noopTask], { env });
    stop?.();
    assert.equal(worker.code, 0, worker.stderr.slice(-2000));
    assert.match(worker.stderr, new RegExp(`${TASKS} succeeded, 0 failed`));
    assert.ok(seen.sizeReads > 0, 'the worker never asked whether the queue was drained');
    assert.equal(seen.sizeBesideDeletes, 0, 'the queue\'s size was read while deletes of the worker were in flight');
  });
});
