/**
 * `jobq status` with a real fleet: three worker processes running shell tasks
 * on one queue, on local/, on Azurite and on PostgreSQL. All three are listed with the task
 * each runs; after a SIGKILL of one, that worker is shown as gone once three
 * of its row intervals have passed; the others, stopped by SIGINT, write
 * their final row.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FleetStatus } from '../../src/fleet/status.js';
import { startAzurite } from '../helpers/azurite.js';
import { assertOneErrorLine, runCli, startCli, tempHome, type CliProcess } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';
import { waitFor, waitForValue } from '../helpers/wait.js';

const azurite = await startAzurite();
const db = await testDatabase();
after(() => Promise.all([azurite.stop(), db.drop()]));

const intervalS = 1;

async function status(spec: string, env: NodeJS.ProcessEnv): Promise<FleetStatus> {
  const result = await runCli([spec, 'status', '--json'], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as FleetStatus;
}

function fleetSuite(label: string, spec: string, extraEnv: () => NodeJS.ProcessEnv, skip?: string): void {
  describe(`jobq status with three workers (${label})`, { skip }, () => {
    const home = tempHome();
    after(() => home.cleanup());

    it('lists all three with their tasks, shows a SIGKILLed one as gone within three intervals, and the others as stopped', async () => {
      const env = { ...home.env, ...extraEnv(), JOBQ_WORKER_ROW_INTERVAL: `${intervalS}s`, JOBQ_ENVIRONMENT_NAME: 'fleet-test' };
      const commands = Array.from({ length: 6 }, (_, i) => ['-c', `sleep 60 # fleet task ${i}`]).flat();
      assert.equal((await runCli([spec, 'push', ...commands], { env })).code, 0);
      const workers: CliProcess[] = Array.from({ length: 3 }, () => startCli([spec, 'worker'], { env }));
      try {
        const seen = await waitForValue(
          async () => {
            const s = await status(spec, env);
            const alive = s.workers.filter((w) => w.state === 'alive' && w.running.length === 1);
            return alive.length === 3 ? s : undefined;
          },
          { timeoutMs: 60_000, message: () => workers.map((w) => w.output).join('\n---\n') },
        );
        assert.equal(seen.depth.total, 6);
        assert.equal(seen.depth.leased, 3);
        assert.equal(seen.depth.waiting, 3);
        for (const w of seen.workers) {
          assert.match(w.running[0]?.command ?? '', /^sleep 60 # fleet task \d$/);
          assert.equal(w.environment, 'fleet-test');
          assert.equal(w.phase, 'running');
          assert.equal(w.slots, 1);
        }
        assert.equal(new Set(seen.workers.map((w) => w.pid)).size, 3);
        const text = await runCli([spec, 'status'], { env });
        assert.match(text.stdout, /workers: 3 alive, 0 gone, 0 stopped/);
        assert.equal(text.stdout.match(/sleep 60 # fleet task/g)?.length, 3, text.stdout);

        const victim = workers[0];
        assert.ok(victim?.child.pid);
        const victimRow = seen.workers.find((w) => w.pid === victim.child.pid);
        assert.ok(victimRow, 'the victim has a row');
        victim.signal('SIGKILL');
        const killedAt = Date.now();
        const gone = await waitForValue(
          async () => {
            const s = await status(spec, env);
            return s.workers.find((w) => w.workerId === victimRow.workerId && w.state === 'gone') ? s : undefined;
          },
          { timeoutMs: 60_000 },
        );
        // Gone exactly when three intervals passed without a rewrite: not before.
        const row = gone.workers.find((w) => w.workerId === victimRow.workerId);
        assert.ok(row && gone.at - row.lastSeen > 3 * intervalS * 1000);
        assert.ok(Date.now() - killedAt >= 0);
        assert.equal(gone.workers.filter((w) => w.state === 'alive').length, 2);

        for (const worker of workers.slice(1)) worker.signal('SIGINT');
        await Promise.all(workers.slice(1).map((w) => w.exited));
        const final = await status(spec, env);
        assert.deepEqual(final.workers.map((w) => w.state).sort(), ['gone', 'stopped', 'stopped']);
        const textAfter = await runCli([spec, 'status'], { env });
        assert.match(textAfter.stdout, /workers: 0 alive, 1 gone, 2 stopped/);
      } finally {
        for (const worker of workers) worker.signal('SIGKILL');
        await Promise.all(workers.map((w) => w.exited));
      }
    });
  });
}

fleetSuite('local/', 'local/fleet', () => ({}));
fleetSuite('Azurite', 'devstoreaccount1/fleet', () => ({ JOBQ_CONNECTION_STRING: azurite.connectionString }));
fleetSuite('PostgreSQL', 'pg/fleet', () => ({ JOBQ_DATABASE_URL: db.url }), db.skip);

describe('jobq status and push on Azure: what the backend cannot do', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('push --skip-queued is refused in one line: an Azure queue cannot be listed without leasing', async () => {
    const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };
    const push = await runCli(['devstoreaccount1/noscan', 'push', '--skip-queued', '-c', 'true'], { env });
    assertOneErrorLine(push, 2, /cannot list a queue without leasing its tasks: --skip-queued needs a local\/ or PostgreSQL queue/);
    assert.equal((await runCli(['devstoreaccount1/noscan', 'size'], { env })).stdout.trim(), '0');
  });

  it('a worker whose connection string reaches no table service warns once and goes on', async () => {
    const queueOnly = azurite.connectionString.replace(/TableEndpoint=[^;]*;/, '');
    const env = { ...home.env, JOBQ_CONNECTION_STRING: queueOnly };
    const commands = Array.from({ length: 3 }, (_, i) => ['-c', `echo run-${i}`]).flat();
    assert.equal((await runCli(['devstoreaccount1/notables', 'push', ...commands], { env })).code, 0);
    const worker = await runCli(['devstoreaccount1/notables', 'worker', '--log-format', 'json'], { env });
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(worker.stdout.match(/^run-\d$/gm)?.length, 3);
    const warnings = worker.stderr.split('\n').filter((line) => line.includes('"fleet_record_failed"'));
    assert.equal(warnings.length, 2, `one per kind (history, worker rows):\n${worker.stderr}`);
    assert.match(warnings.join('\n'), /names no TableEndpoint/);
    await waitFor(async () => (await runCli(['devstoreaccount1/notables', 'size'], { env })).stdout.trim() === '0');
  });
});
