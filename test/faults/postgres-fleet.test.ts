/**
 * A fleet on one PostgreSQL queue: two worker processes and four pushers at
 * once on 5,000 tasks, each run exactly once; then random SIGKILLs of the
 * workers, after which every task completed at least once and every
 * duplicate is explained by a killed worker or a lost lease.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, describe, it } from 'node:test';
import { tempHome } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';
import { seedFromEnv, seededRandom } from '../helpers/random.js';
import { runFleet, type FleetSummary } from './fleet.js';

const db = await testDatabase();
after(() => db.drop());

function context(summary: FleetSummary): string {
  return JSON.stringify({ ...summary, workers: summary.workers.map((worker) => [worker.id, worker.killed, worker.exit?.code]) });
}

describe('a fleet on one PostgreSQL queue (CLI)', { skip: db.skip }, () => {
  it('2 workers and 4 pushers at once, 5,000 tasks: each runs exactly once', async () => {
    const home = tempHome();
    try {
      const summary = await runFleet({
        env: { ...home.env, JOBQ_DATABASE_URL: db.url },
        dir: home.home,
        tasks: 5000,
        seconds: () => 0,
        pushers: 4,
        workers: 2,
        slots: 4,
        visibility: '10m',
        deadlineMs: 240_000,
      });
      assert.equal(summary.completed, 5000, context(summary));
      assert.deepEqual(summary.repeated, [], `no task ran twice: ${context(summary)}`);
      assert.equal(summary.leftInQueue, 0);
      assert.equal(summary.deadLettered, 0);
      for (const worker of summary.workers) assert.equal(worker.exit?.code, 0, worker.cli.stderr.slice(-1500));
    } finally {
      home.cleanup();
    }
  });

  const seed = seedFromEnv('FLEET_SEED');
  it(`random SIGKILLs of the workers: nothing lost, every duplicate explained (seed ${seed})`, async (t) => {
    const home = tempHome();
    const random = seededRandom(seed);
    let kills = 0;
    try {
      const summary = await runFleet({
        env: { ...home.env, JOBQ_DATABASE_URL: db.url },
        dir: home.home,
        tasks: 600,
        seconds: (n) => (n % 10 === 0 ? 1 : (n % 7) / 50),
        workers: 2,
        slots: 2,
        visibility: '3s',
        deadlineMs: 300_000,
        fault: async ({ alive, remaining }) => {
          while (remaining() > 0 && kills < 8) {
            await delay(random.int(700, 2000));
            const targets = alive().filter((worker) => !worker.killed);
            if (targets.length === 0 || remaining() === 0) continue;
            const victim = random.pick(targets);
            victim.killed = true;
            victim.cli.signal('SIGKILL');
            kills += 1;
          }
        },
      });
      t.diagnostic(`kills ${kills}, duplicates ${JSON.stringify(summary.duplicates)}`);
      assert.ok(kills > 0, 'workers were killed');
      assert.deepEqual(summary.lost, [], context(summary));
      assert.equal(summary.leftInQueue, 0, context(summary));
      assert.equal(summary.deadLettered, 0, context(summary));
      assert.equal(summary.duplicates.unexplained, 0, `every duplicate explained: ${context(summary)}`);
      for (const worker of summary.workers.filter((each) => !each.killed)) {
        assert.equal(worker.exit?.code, 0, worker.cli.stderr.slice(-1500));
      }
    } finally {
      home.cleanup();
    }
  });
});
