/**
 * PostgreSQL faults under a running fleet (fleet.ts), with the machine's
 * server left alone (other developers use it): its connections killed with
 * pg_terminate_backend, and a proxy between the workers and the server that
 * refuses connections, or passes no byte, for 10 s. Every time: no task
 * lost, the queue drained, nothing dead-lettered, every duplicate explained
 * by a worker's log, every worker exits 0, and the errors were one line
 * each, without the password.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { tempHome } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { runFleet, type FleetSummary } from './fleet.js';

const db = await testDatabase();
after(() => db.drop());

/** Any password gets through the test server's trust authentication; it must never show. */
const secret = 'outage-sEcReT';

function assertSurvived(summary: FleetSummary): void {
  const context = JSON.stringify({ ...summary, workers: summary.workers.map((worker) => [worker.id, worker.exit?.code]) });
  assert.deepEqual(summary.lost, [], `every task completed: ${context}`);
  assert.equal(summary.leftInQueue, 0, context);
  assert.equal(summary.deadLettered, 0, context);
  assert.equal(summary.duplicates.unexplained, 0, `every duplicate explained: ${context}`);
  for (const worker of summary.workers) {
    assert.equal(worker.exit?.code, 0, `worker ${worker.id}: ${worker.cli.stderr.slice(-1500)}`);
    assert.ok(!worker.cli.output.includes(secret), `worker ${worker.id} showed the password`);
  }
}

/** The backend errors the workers logged (JSON lines), each checked to be one line without a stack. */
function backendErrors(summary: FleetSummary): string[] {
  const messages = summary.workers.flatMap((worker) =>
    worker.cli.stderr
      .split('\n')
      .filter((line) => line.includes('"backend_error"') || line.includes('"settle_failed"') || line.includes('"heartbeat_failed"'))
      .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg)),
  );
  for (const message of messages) assert.doesNotMatch(message, /\n|\s+at \S+:\d+/, message);
  return messages;
}

describe('PostgreSQL outages under a running fleet (CLI)', { skip: db.skip }, () => {
  it("pg_terminate_backend of the workers' connections, again and again: they reconnect and finish", async () => {
    const home = tempHome();
    try {
      const name = `jobq-killed-${process.pid}`;
      const url = new URL(db.url);
      url.password = secret;
      url.searchParams.set('application_name', name);
      let kills = 0;
      const summary = await runFleet({
        env: { ...home.env, JOBQ_DATABASE_URL: url.href },
        dir: home.home,
        tasks: 300,
        seconds: (n) => (n % 10) / 50,
        workers: 2,
        slots: 2,
        visibility: '4s',
        deadlineMs: 180_000,
        fault: async ({ remaining }) => {
          await delay(1000);
          for (let round = 0; round < 8 && remaining() > 0; round += 1) {
            const rows = await db.query(
              'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
              [db.name, name],
            );
            kills += rows.length;
            await delay(700);
          }
        },
      });
      assertSurvived(summary);
      assert.ok(kills > 0, 'connections were killed');
      backendErrors(summary); // one line each (most kills hit idle connections, which the pool replaces unseen)
    } finally {
      home.cleanup();
    }
  });

  for (const outage of ['refuses connections', 'passes no byte'] as const) {
    it(`a server that ${outage} for 10 s: workers wait, retry and finish`, async () => {
      const home = tempHome();
      const server = new URL(db.url);
      const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
      try {
        const url = new URL(db.url);
        url.password = secret;
        url.host = `${proxy.host}:${proxy.port}`;
        url.searchParams.set('connect_timeout', '3');
        let outageEnded = 0;
        const summary = await runFleet({
          env: { ...home.env, JOBQ_DATABASE_URL: url.href },
          dir: home.home,
          tasks: 120,
          seconds: (n) => (n % 5) / 10,
          workers: 2,
          slots: 2,
          visibility: '4s',
          deadlineMs: 240_000,
          fault: async () => {
            await delay(2000);
            if (outage === 'refuses connections') await proxy.refuse();
            else proxy.stall();
            await delay(10_000);
            await proxy.forward();
            outageEnded = Date.now();
          },
        });
        assertSurvived(summary);
        assert.ok(outageEnded > 0);
        const errors = backendErrors(summary);
        // A stall shorter than the client's read timeout (35 s) only delays the statements in flight.
        if (outage === 'refuses connections') assert.ok(errors.length > 0, 'the workers noticed the outage');
      } finally {
        await proxy.close();
        home.cleanup();
      }
    });
  }
});
