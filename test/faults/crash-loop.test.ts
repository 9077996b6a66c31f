/**
 * No endless crash loops (--max-deliveries): a task that kills its own worker
 * is dead-lettered after that many deliveries, and the tasks behind it run;
 * releases after a stop do not count. On the local backend, Azurite and PostgreSQL.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, startCli, tempHome, type CliResult } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';

const azurite = await startAzurite();
after(() => azurite.stop());
const db = await testDatabase();
after(() => db.drop());

const backends = [
  { label: 'local', prefix: 'local', extraEnv: {}, skip: undefined },
  { label: 'Azurite', prefix: 'devstoreaccount1', extraEnv: { JOBQ_CONNECTION_STRING: azurite.connectionString }, skip: undefined },
  { label: 'PostgreSQL', prefix: 'pg', extraEnv: { JOBQ_DATABASE_URL: db.url }, skip: db.skip },
];

/** Starts workers one after the other, each when the previous one died, until one exits 0. */
async function workersUntilOneSucceeds(args: string[], env: NodeJS.ProcessEnv, most: number): Promise<CliResult[]> {
  const exits: CliResult[] = [];
  while (exits.length < most) {
    const exit = await startCli(args, { env }).exited;
    exits.push(exit);
    if (exit.code === 0) return exits;
  }
  assert.fail(`no worker exited 0 in ${most} tries:\n${exits.map((exit) => exit.stderr).join('\n---\n')}`);
}

for (const backend of backends) {
  describe(`--max-deliveries on ${backend.label} (CLI)`, { skip: backend.skip }, () => {
    const home = tempHome();
    after(() => home.cleanup());
    const env = { ...home.env, ...backend.extraEnv };

    it('a task that kills its worker (kill -9 $PPID) is dead-lettered after its third delivery; the tasks behind it run', async () => {
      const spec = `${backend.prefix}/suicidal`;
      const ran = path.join(home.home, `${backend.label}-ran.txt`);
      const push = await runCli([spec, 'push'], { env, input: `kill -9 $PPID\necho first >> ${ran}\necho second >> ${ran}\n` });
      assert.equal(push.code, 0, push.stderr);
      const exits = await workersUntilOneSucceeds([spec, 'worker', '--max-deliveries', '3', '--visibility-timeout', '2s'], env, 6);
      assert.deepEqual(
        exits.map((exit) => exit.signal),
        ['SIGKILL', 'SIGKILL', 'SIGKILL', null],
        'three workers died, the fourth drained the queue',
      );
      const last = exits.at(-1);
      assert.match(last?.stderr ?? '', /was delivered 3 times without being settled \(its worker died each time\): moved to suicidal-failed/);
      assert.deepEqual(readFileSync(ran, 'utf8').trim().split('\n').sort(), ['first', 'second']);
      assert.equal((await runCli([spec, 'size'], { env })).stdout.trim(), '0');
      const list = await runCli([spec, 'dlq', 'list', '--json'], { env });
      const records = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as { error: string; task: string });
      assert.equal(records.length, 1);
      assert.equal(records[0]?.error, 'delivered 3 times without being settled (its worker died each time)');
      assert.match(records[0]?.task ?? '', /kill -9 \$PPID/);
    });

    it('releases after a stop do not count as deliveries', async () => {
      const spec = `${backend.prefix}/interrupted`;
      const started = path.join(home.home, `${backend.label}-started.txt`);
      const cmd = `echo started >> ${started}; if [ "$(wc -l < ${started})" -lt 3 ]; then echo ready; sleep 30; fi; echo finished`;
      assert.equal((await runCli([spec, 'push', '-c', cmd], { env })).code, 0);
      const args = [spec, 'worker', '--max-deliveries', '1'];
      for (let stop = 0; stop < 2; stop += 1) {
        const worker = startCli(args, { env });
        await worker.waitForOutput(/^ready$/m);
        worker.signal('SIGINT');
        assert.equal((await worker.exited).code, 130, worker.output);
      }
      const last = await runCli(args, { env });
      assert.equal(last.code, 0, last.stderr);
      assert.match(last.stdout, /^finished$/m);
      assert.equal((await runCli([spec, 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
    });
  });
}
