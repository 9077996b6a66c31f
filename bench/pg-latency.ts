/**
 * Push-to-start latency on an idle fleet, PostgreSQL, side by side on the
 * same server in one run: W worker processes (default 4, one task at a
 * time each) wait on an empty queue; the script pushes one task at a time,
 * 200-600 ms apart (so the fleet is idle at each push), stamped with the
 * time just before the push call; the task appends how long ago that was
 * when it starts. Contenders: jobq (an idle worker through the API:
 * whenIdle 'poll', a function task: its idle slots wait on PostgreSQL's
 * notifications), jobq's store alone (lease, and waitForPush when empty),
 * graphile-worker (LISTEN/NOTIFY) and pg-boss (polling, at its shortest
 * interval, 0.5 s). Figures: p50 and p99.
 *
 *   node dist/bench/pg-latency.js [--pushes 100] [--workers 4]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { makeWorkerUtils, Logger } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { JobQueue, pushTask } from '../src/index.js';
import { percentile } from '../src/measure/stats.js';
import { waitFor } from '../test/helpers/wait.js';
import { integerOptions, Scratch } from './lib/jobq.js';
import { benchDatabase, runner } from './lib/postgres.js';
import { figure, ratios, Report, target } from './lib/results.js';
import { now } from './pg/runner.js';

const { pushes, workers } = integerOptions({ pushes: 100, workers: 4 });
const report = new Report('pg-latency', `push-to-start latency on an idle fleet of ${workers} workers, PostgreSQL: jobq vs graphile-worker vs pg-boss`);
const db = await benchDatabase();
const scratch = new Scratch();
const url = `${db.url}?sslmode=disable`;
const env = { ...scratch.freshHome(), JOBQ_DATABASE_URL: url };

/** Starts the idle runners and waits until each says it is ready; closing their stdin stops them. */
async function startFleet(argv: [string, string[]]): Promise<ChildProcess[]> {
  const fleet = Array.from({ length: workers }, () => spawn(argv[0], argv[1], { env, stdio: ['pipe', 'pipe', 'inherit'] }));
  await Promise.all(
    fleet.map(
      (child) =>
        new Promise<void>((resolve, reject) => {
          let out = '';
          child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
            out += chunk;
            if (out.includes('ready')) resolve();
          });
          child.once('exit', (code) => reject(new Error(`${argv[1].join(' ')} exited with ${code} before it was ready`)));
        }),
    ),
  );
  return fleet;
}

async function stopFleet(fleet: ChildProcess[]): Promise<void> {
  await Promise.all(
    fleet.map(async (child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      await Promise.race([exited, delay(20_000).then(() => child.kill('SIGKILL'))]);
    }),
  );
}

function latencies(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map(Number) : [];
}

/** Runs one contender: its idle fleet, then `pushes` pushes, one at a time; returns the latencies in ms. */
async function measure(name: string, argv: [string, string[]], file: string, push: () => Promise<void>): Promise<number[]> {
  const fleet = await startFleet(argv);
  try {
    await delay(5_000); // idle for a while, as a fleet between bursts is
    for (let n = 0; n < pushes; n += 1) {
      await push();
      await delay(200 + Math.random() * 400);
    }
    await waitFor(() => latencies(file).length >= pushes, { timeoutMs: 60_000, message: () => `${name}: ${latencies(file).length} of ${pushes} tasks started` });
  } finally {
    await stopFleet(fleet);
  }
  console.log(`${name} done`);
  return latencies(file);
}

const samples: Record<string, number[]> = {};
try {
  const jobqFile = scratch.path('jobq.txt');
  const queue = await JobQueue.open('pg/latency', { env });
  const listening = await JobQueue.open('pg/listening', { env });
  try {
    samples['jobq'] = await measure('jobq', runner('jobq.js', 'idle', 'pg/latency', '1'), jobqFile, async () => {
      await pushTask(queue, { t: now(), file: jobqFile });
    });
    const listenFile = scratch.path('listen.txt');
    samples['jobq-listen'] = await measure('jobq store + waitForPush', runner('jobq.js', 'listen', 'pg/listening', '1'), listenFile, async () => {
      await pushTask(listening, { t: now(), file: listenFile });
    });
  } finally {
    await Promise.all([queue.close(), listening.close()]);
  }

  const graphileFile = scratch.path('graphile.txt');
  const utils = await makeWorkerUtils({ connectionString: url, logger: new Logger(() => () => undefined) });
  try {
    await utils.migrate();
    samples['graphile'] = await measure('graphile-worker', runner('graphile-worker.js', 'idle', url, '1', graphileFile), graphileFile, async () => {
      await utils.addJob('latency', { t: now() });
    });
  } finally {
    await utils.release();
  }

  const bossFile = scratch.path('pg-boss.txt');
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  boss.on('error', (err: Error) => console.error(`pg-boss: ${err.message}`));
  await boss.start();
  try {
    await boss.createQueue('bench');
    samples['pg-boss'] = await measure('pg-boss', runner('pg-boss.js', 'idle', url, '1', bossFile), bossFile, async () => {
      await boss.send('bench', { t: now() });
    });
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
} finally {
  scratch.cleanup();
  await db.drop();
}

const labels: Record<string, string> = {
  jobq: `jobq, ${workers} idle workers (whenIdle poll: LISTEN/NOTIFY)`,
  'jobq-listen': `jobq store, ${workers} lease + waitForPush loops`,
  graphile: `graphile-worker, ${workers} idle runners`,
  'pg-boss': `pg-boss, ${workers} idle work() loops, polling every 0.5 s`,
};
const figures = Object.entries(samples).flatMap(([key, values]) =>
  [50, 99].map((p) =>
    figure(
      { key: `${key}-p${p}`, label: `${labels[key] ?? key}, p${p}`, command: `node dist/bench/pg-latency.js --pushes ${pushes} --workers ${workers}`, unit: 'ms', samples: values },
      (all) => percentile(all, p),
    ),
  ),
);
const value = (key: string) => figures.find((entry) => entry.key === key)?.value ?? Number.NaN;
report.finish({
  figures,
  ratios: ['jobq', 'jobq-listen'].flatMap((key) => [
    ...ratios(figures, `${key}-p50`, ['graphile-p50', 'pg-boss-p50']),
    ...ratios(figures, `${key}-p99`, ['graphile-p99', 'pg-boss-p99']),
  ]),
  targets: [
    target('jobq worker push-to-start p99 on an idle fleet, ms', value('jobq-p99'), '<=', 50),
    target('jobq store + waitForPush push-to-start p99, ms (what the wired worker can reach)', value('jobq-listen-p99'), '<=', 50),
  ],
  notes: [
    `${pushes} pushes, 200-600 ms apart, after 5 s of idling; the stamp is taken before the push call, so the push's own commit is in the figure`,
    "jobq's idle slots wait on LISTEN/NOTIFY (waitForPush), and poll slowly (250 ms doubling to 5 s) only for leases that expired",
  ],
});
