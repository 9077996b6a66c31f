/**
 * No-op function tasks on PostgreSQL, side by side on the same server in one
 * run: jobq (`jobq pg/bench worker -n C --proc noop`, as a user runs it, and
 * with -q), graphile-worker and pg-boss, each at the same concurrency C
 * (default 4: tasks running at once). Each peer runs as it comes and with its
 * own batching turned on (graphile-worker: localQueue of 64 and batched
 * completions; pg-boss: each of its C loops fetches 64 jobs a poll instead of
 * 1), and jobq is compared with the faster of the two. Tasks are enqueued
 * first, untimed; the figure is tasks completed / wall time of the worker
 * process, start-up included, stopped after N tasks or 30 s.
 *
 *   node dist/bench/pg-functions.js [--rounds 3] [--tasks 20000] [--concurrency 4]
 */
import { readFileSync } from 'node:fs';
import { commandLine, integerOptions, jobq, lines, noopTask, Scratch } from './lib/jobq.js';
import { benchDatabase, lastJson, runner } from './lib/postgres.js';
import { timed } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target } from './lib/results.js';

const { rounds, tasks, concurrency } = integerOptions({ rounds: 3, tasks: 20_000, concurrency: 4 });
const report = new Report('pg-functions', `${tasks} no-op function tasks at concurrency ${concurrency} on PostgreSQL: jobq vs graphile-worker vs pg-boss`);
const db = await benchDatabase();
const scratch = new Scratch();
const input = scratch.file('kwargs.jsonl', lines(tasks, (index) => JSON.stringify({ i: index })));
const logFile = scratch.path('output.log');
const samples = new Samples();
const url = `${db.url}?sslmode=disable`;
const C = String(concurrency);

const push = jobq('pg/bench', 'push');
const worker = (...extra: string[]) => jobq('pg/bench', 'worker', '-n', C, '--proc', noopTask, ...extra);
const graphile = (localQueue: string) => runner('graphile-worker.js', 'work', url, String(tasks), C, localQueue, '30');
const pgBoss = (batch: string) => runner('pg-boss.js', 'work', url, String(tasks), C, batch, '30');

/** Runs a worker process on tasks enqueued before; records completed / wall time. */
async function measure(key: string, argv: [string, string[]], env: NodeJS.ProcessEnv, completed: () => number): Promise<void> {
  const ms = await timed(...argv, { env, logFile });
  samples.add(key, completed() / (ms / 1000));
}

async function runJobq(key: string, quiet: boolean): Promise<void> {
  const env = { ...scratch.freshHome(), JOBQ_DATABASE_URL: url };
  await timed(...push, { env, stdin: input, logFile });
  await measure(key, worker(...(quiet ? ['-q'] : [])), env, () => tasks);
}

async function runPeer(key: string, enqueue: [string, string[]], work: [string, string[]]): Promise<void> {
  await timed(...enqueue, { logFile });
  await measure(key, work, process.env, () => lastJson<{ completed: number }>(readFileSync(logFile, 'utf8')).completed);
}

const emptyPeers = async (): Promise<void> => {
  await db.query('DELETE FROM graphile_worker._private_jobs').catch(() => undefined);
  await db.query('DELETE FROM pgboss.job').catch(() => undefined);
};

try {
  await interleaved(rounds, [
    () => runJobq('jobq', false),
    () => runJobq('jobq-quiet', true),
    async () => {
      await emptyPeers();
      await runPeer('graphile', runner('graphile-worker.js', 'enqueue', url, String(tasks)), graphile('0'));
    },
    async () => {
      await emptyPeers();
      await runPeer('graphile-batched', runner('graphile-worker.js', 'enqueue', url, String(tasks)), graphile('64'));
    },
    async () => {
      await emptyPeers();
      await runPeer('pg-boss', runner('pg-boss.js', 'enqueue', url, String(tasks)), pgBoss('1'));
    },
    async () => {
      await emptyPeers();
      await runPeer('pg-boss-batched', runner('pg-boss.js', 'enqueue', url, String(tasks)), pgBoss('64'));
    },
  ]);
} finally {
  scratch.cleanup();
  await db.drop();
}

const line = (argv: [string, string[]]) => commandLine(...argv).replace(url, 'URL').replace(noopTask, 'dist/src/measure/noop-task.js');
const figures = [
  figure({ key: 'jobq', label: `jobq worker -n ${C} (pg/)`, command: line(worker()), unit: 'tasks/s', samples: samples.get('jobq') }),
  figure({ key: 'jobq-quiet', label: `jobq worker -n ${C} -q (pg/)`, command: line(worker('-q')), unit: 'tasks/s', samples: samples.get('jobq-quiet') }),
  figure({ key: 'graphile', label: `graphile-worker, concurrency ${C}`, command: line(graphile('0')), unit: 'tasks/s', samples: samples.get('graphile') }),
  figure({ key: 'graphile-batched', label: `graphile-worker, concurrency ${C}, localQueue 64`, command: line(graphile('64')), unit: 'tasks/s', samples: samples.get('graphile-batched') }),
  figure({ key: 'pg-boss', label: `pg-boss, ${C} work() loops, batchSize 1`, command: line(pgBoss('1')), unit: 'tasks/s', samples: samples.get('pg-boss') }),
  figure({ key: 'pg-boss-batched', label: `pg-boss, ${C} work() loops, batchSize 64`, command: line(pgBoss('64')), unit: 'tasks/s', samples: samples.get('pg-boss-batched') }),
];
const value = (key: string) => figures.find((entry) => entry.key === key)?.value ?? Number.NaN;
const bestGraphile = value('graphile') >= value('graphile-batched') ? 'graphile' : 'graphile-batched';
const bestPgBoss = value('pg-boss') >= value('pg-boss-batched') ? 'pg-boss' : 'pg-boss-batched';
const all = ratios(figures, 'jobq', ['graphile', 'graphile-batched', 'pg-boss', 'pg-boss-batched']);
report.finish({
  figures,
  ratios: all,
  targets: [
    target(`jobq / graphile-worker (its faster setting, ${bestGraphile})`, value('jobq') / value(bestGraphile), '>=', 1.5),
    target(`jobq / pg-boss (its faster setting, ${bestPgBoss})`, value('jobq') / value(bestPgBoss), '>=', 3),
  ],
  notes: [
    `${rounds} rounds; figures are medians; one server, one database, concurrency ${C} for all`,
    'tasks are enqueued before each run and not timed; peers stop after 30 s and count what they completed',
    'sslmode=disable for all (the server has no TLS)',
  ],
});
