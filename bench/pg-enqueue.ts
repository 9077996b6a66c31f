/**
 * Enqueue on PostgreSQL, side by side on the same server in one run: N no-op
 * tasks (default 100,000) through jobq's pushTasks (one all-or-nothing push,
 * streamed: staged in chunks, moved into the queue at its commit),
 * graphile-worker's addJobs and pg-boss's insert at 100 a call, 10 calls at
 * once, and the floor: the same message bodies inserted into a bare table
 * of jobq's shape, durably, at that batch size and concurrency. Each figure is N / the time of the enqueue
 * calls alone, measured in the process that makes them; `jobq push` from
 * stdin is reported too, start-up included.
 *
 *   node dist/bench/pg-enqueue.js [--rounds 3] [--tasks 100000]
 */
import { readFileSync } from 'node:fs';
import { commandLine, integerOptions, jobq, lines, Scratch } from './lib/jobq.js';
import { benchDatabase, lastJson, runner } from './lib/postgres.js';
import { timed } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target } from './lib/results.js';

const { rounds, tasks } = integerOptions({ rounds: 3, tasks: 100_000 });
const report = new Report('pg-enqueue', `enqueue of ${tasks} tasks on PostgreSQL: jobq pushTasks vs graphile-worker vs pg-boss vs the floor`);
const db = await benchDatabase();
const scratch = new Scratch();
const logFile = scratch.path('output.log');
const input = scratch.file('commands.txt', lines(tasks, (index) => `echo task ${index}`));
const samples = new Samples();
const url = `${db.url}?sslmode=disable`;
const env = { ...scratch.freshHome(), JOBQ_DATABASE_URL: url };
const perSecond = (ms: number) => tasks / (ms / 1000);
const N = String(tasks);

const contenders: Record<string, [string, string[]]> = {
  jobq: runner('jobq.js', 'enqueue', 'pg/bench', N),
  graphile: runner('graphile-worker.js', 'enqueue', url, N),
  'pg-boss': runner('pg-boss.js', 'enqueue', url, N),
  floor: runner('raw-insert.js', url, N),
};
const push = jobq('pg/bench', 'push');

/** Runs an enqueue runner and records the rate it measured itself. */
async function measure(key: string): Promise<void> {
  const argv = contenders[key];
  if (!argv) throw new Error(`no contender ${key}`);
  await timed(...argv, { env, logFile });
  samples.add(key, perSecond(lastJson<{ ms: number }>(readFileSync(logFile, 'utf8')).ms));
}

/** Empties every contender's queue between runs (tables that do not exist yet are skipped). */
async function emptyAll(): Promise<void> {
  for (const table of ['jobq.messages', 'graphile_worker._private_jobs', 'pgboss.job']) {
    await db.query(`DELETE FROM ${table}`).catch(() => undefined);
  }
}

try {
  await interleaved(rounds, [
    ...Object.keys(contenders).map((key) => async () => {
      await emptyAll();
      await measure(key);
    }),
    async () => {
      await emptyAll();
      samples.add('jobq-push', perSecond(await timed(...push, { env, stdin: input, logFile })));
    },
  ]);
} finally {
  scratch.cleanup();
  await db.drop();
}

const line = (argv: [string, string[]]) => commandLine(...argv).replace(url, 'URL');
const figures = [
  figure({ key: 'jobq', label: 'jobq pushTasks (pg/)', command: line(contenders['jobq'] ?? push), unit: 'tasks/s', samples: samples.get('jobq') }),
  figure({ key: 'jobq-push', label: 'jobq push from stdin, start-up included', command: `${line(push)} < commands.txt`, unit: 'tasks/s', samples: samples.get('jobq-push') }),
  figure({ key: 'graphile', label: 'graphile-worker addJobs', command: line(contenders['graphile'] ?? push), unit: 'tasks/s', samples: samples.get('graphile') }),
  figure({ key: 'pg-boss', label: 'pg-boss insert', command: line(contenders['pg-boss'] ?? push), unit: 'tasks/s', samples: samples.get('pg-boss') }),
  figure({ key: 'floor', label: 'INSERT … unnest into a bare table (floor)', command: line(contenders['floor'] ?? push), unit: 'tasks/s', samples: samples.get('floor') }),
];
report.finish({
  figures,
  ratios: ratios(figures, 'jobq', ['graphile', 'pg-boss', 'floor']),
  targets: [target('jobq pushTasks (pg/), tasks/s', figures[0]?.value ?? Number.NaN, '>=', 50_000)],
  notes: [
    `${rounds} rounds; figures are medians; jobq: one all-or-nothing push; the others: 100 tasks a call, 10 calls at once`,
    'every contender commits durably (jobq: pushes wait for the disk; the others use the server default)',
  ],
});
