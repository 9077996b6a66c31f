/**
 * Shell tasks on PostgreSQL against the local backend, in one run: N `true`
 * commands (default 2,000) at -n 4, pushed, then run by `jobq worker`; the
 * figure is tasks/s of the worker process, start-up included.
 *
 *   node dist/bench/pg-shell.js [--rounds 3] [--tasks 2000]
 */
import { commandLine, integerOptions, jobq, lines, Scratch } from './lib/jobq.js';
import { benchDatabase } from './lib/postgres.js';
import { timed } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target } from './lib/results.js';

const { rounds, tasks } = integerOptions({ rounds: 3, tasks: 2000 });
const report = new Report('pg-shell', `${tasks} \`true\` commands at -n 4: jobq on PostgreSQL vs jobq on local/`);
const db = await benchDatabase();
const scratch = new Scratch();
const input = scratch.file('true.txt', lines(tasks, () => 'true'));
const logFile = scratch.path('output.log');
const samples = new Samples();
const perSecond = (ms: number) => tasks / (ms / 1000);

async function run(key: string, spec: string, env: NodeJS.ProcessEnv): Promise<void> {
  await timed(...jobq(spec, 'push'), { env, stdin: input, logFile });
  samples.add(key, perSecond(await timed(...jobq(spec, 'worker', '-n', '4'), { env, logFile })));
}

try {
  await interleaved(rounds, [
    () => run('jobq-pg', 'pg/bench', { ...scratch.freshHome(), JOBQ_DATABASE_URL: `${db.url}?sslmode=disable` }),
    () => run('jobq-local', 'local/bench', scratch.freshHome()),
  ]);
} finally {
  scratch.cleanup();
  await db.drop();
}

const figures = [
  figure({ key: 'jobq-pg', label: 'jobq worker -n 4 (pg/)', command: commandLine(...jobq('pg/bench', 'worker', '-n', '4')), unit: 'tasks/s', samples: samples.get('jobq-pg') }),
  figure({ key: 'jobq-local', label: 'jobq worker -n 4 (local/)', command: commandLine(...jobq('local/bench', 'worker', '-n', '4')), unit: 'tasks/s', samples: samples.get('jobq-local') }),
];
const all = ratios(figures, 'jobq-pg', ['jobq-local']);
report.finish({
  figures,
  ratios: all,
  targets: [target('jobq on PostgreSQL, times jobq on local/ (shell `true`, -n 4)', all[0]?.value ?? Number.NaN, '>=', 0.8)],
  notes: [`${rounds} rounds; figures are medians; each task is \`bash -c true\``],
});
