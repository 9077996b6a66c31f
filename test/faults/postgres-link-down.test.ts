/**
 * A worker on another "host" loses its network mid-task (SPEC issue 13): it
 * runs in a network namespace (netns.ts) and reaches the server through a
 * proxy on this host's end of the veth pair (the server listens on loopback
 * only). Its link goes down while its task runs: its lease lapses, a worker on
 * this host runs the task and completes it; when the link comes back, the
 * first worker's heartbeat or settle reaches the server with a stale token
 * and fails with LeaseLost. Nothing is lost, nothing is settled twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { CliProcess, runCli, startCli, tempHome } from '../helpers/cli.js';
import { accountDuplicates } from '../helpers/duplicates.js';
import { makeNetworkNamespace, type NetworkNamespace } from '../helpers/netns.js';
import { cliPath } from '../helpers/paths.js';
import { testDatabase } from '../helpers/postgres.js';
import { recordedTasks } from '../helpers/recorded-runs.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const db = await testDatabase();
after(() => db.drop());
const made = db.skip === undefined ? makeNetworkNamespace() : { skip: db.skip };
const namespace: NetworkNamespace | undefined = 'skip' in made ? undefined : made;
after(() => namespace?.remove());

interface LogLine {
  event?: string;
  task_id?: string;
  msg?: string;
}

function events(log: string): LogLine[] {
  return log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('a worker whose link goes down mid-task (PostgreSQL, network namespace)', { skip: 'skip' in made ? made.skip : undefined }, () => {
  it('its lease lapses, another worker runs the task, and its late settle is LeaseLost', async () => {
    assert.ok(namespace);
    const home = tempHome();
    const server = new URL(db.url);
    const proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) }, { listen: { host: namespace.hostAddress } });
    const workers: CliProcess[] = [];
    try {
      const recorded = recordedTasks(home.home);
      const spec = 'pg/link-down';
      const env = { ...home.env, JOBQ_DATABASE_URL: db.url };
      assert.equal((await runCli([spec, 'push', '-c', recorded.command(0, 4)], { env })).code, 0);

      const remote = new URL(db.url);
      remote.host = `${namespace.hostAddress}:${proxy.port}`;
      const [file, args] = namespace.command(process.execPath, [cliPath, spec, 'worker', '--visibility-timeout', '2s', '--log-format', 'json']);
      const far = new CliProcess(
        spawn(file, args, { env: { ...process.env, JOBQ_LOG_LEVEL: undefined, ...env, JOBQ_DATABASE_URL: remote.href, JOBQ_TEST_WORKER: 'far' } }),
      );
      workers.push(far);
      await far.waitForOutput(/"event":"task_start"/, 60_000);
      namespace.linkDown();

      const near = startCli([spec, 'worker', '--visibility-timeout', '2s', '--log-format', 'json'], {
        env: { ...env, JOBQ_TEST_WORKER: 'near' },
      });
      workers.push(near);
      const nearExit = await near.exited;
      assert.equal(nearExit.code, 0, nearExit.stderr);
      assert.ok(events(nearExit.stderr).some((line) => line.event === 'task_success'), 'the near worker completed the task');
      assert.equal(far.child.exitCode, null, 'the far worker is still waiting on its connection');

      namespace.linkUp();
      const farExit = await Promise.race([
        far.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the far worker did not finish:\n${far.output}`)), 120_000).unref()),
      ]);
      assert.equal(farExit.code, 0, farExit.stderr);
      const farEvents = events(farExit.stderr);
      assert.ok(!farEvents.some((line) => line.event === 'task_success'), 'the far worker did not complete it');
      const leaseLost = farEvents.filter(
        (line) => (line.event === 'task_lock_lost' && line.msg?.includes('lost its lease')) || (line.event === 'settle_failed' && line.msg?.includes('its lease is gone')),
      );
      assert.equal(leaseLost.length, 1, `the far worker's late call was LeaseLost:\n${farExit.stderr}`);

      const runs = recorded.runs();
      assert.deepEqual(runs.map((run) => run.worker).sort(), ['far', 'near'], 'both ran it to the end');
      const duplicates = accountDuplicates(runs, [
        { id: 'far', killed: false, slots: 1, log: farExit.stderr },
        { id: 'near', killed: false, slots: 1, log: nearExit.stderr },
      ]);
      assert.equal(duplicates.unexplained, 0, JSON.stringify(duplicates));
      assert.deepEqual(await db.query('SELECT id FROM jobq.messages'), [], 'settled once: nothing left, nothing dead-lettered');
    } finally {
      namespace.linkUp();
      for (const worker of workers) worker.signal('SIGKILL');
      await Promise.all(workers.map((worker) => worker.exited));
      await proxy.close();
      home.cleanup();
    }
  });
});
