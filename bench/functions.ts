/**
 * Function tasks side by side: N no-op function tasks (default 100,000) on
 * the local backend at -n 4, through jobq's worker (as a user runs it, with
 * -q, which skips the two log lines per task, and with -q --no-history),
 * against the floor: the same module straight through a piscina pool of 4
 * threads (no queue, no storage). Beside them, for where the time goes: the
 * queue alone (baselines/local-drain.js), a bare worker doing jobq's SQL
 * and thread round trips and nothing else (baselines/bare-worker.js), and
 * the same bare worker inserting jobq's history row for each task: the
 * floor of a worker that keeps the history, as jobq does by default. The
 * figure is tasks/s of the process that runs them, start-up included, and
 * its CPU per task; the targets are jobq's share of the pool in the same run.
 *
 *   node dist/bench/functions.js [--rounds 3] [--tasks 100000]
 */
import path from 'node:path';
import { repoRoot } from '../test/helpers/paths.js';
import { baseline, commandLine, integerOptions, jobq, lines, noopTask, Scratch } from './lib/jobq.js';
import { timed, timedWithMainThreadCpu } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target } from './lib/results.js';

const { rounds, tasks } = integerOptions({ rounds: 3, tasks: 100_000 });
const report = new Report('functions', `${tasks} no-op function tasks at -n 4 on local/: jobq vs a bare piscina pool`);
const scratch = new Scratch();
const input = scratch.file('kwargs.jsonl', lines(tasks, (index) => JSON.stringify({ i: index })));
const logFile = scratch.path('output.log');
const samples = new Samples();
const perSecond = (ms: number) => tasks / (ms / 1000);

const task = path.relative(repoRoot, noopTask);
const push = jobq('local/bench', 'push');
const worker = (...extra: string[]) => jobq('local/bench', 'worker', '-n', '4', '--proc', noopTask, ...extra);
const piscina = baseline('piscina-noop.js', String(tasks), '4');
const drain = baseline('local-drain.js', 'bench');
const bareWorker = baseline('bare-worker.js', 'bench', '4');
const bareWorkerHistory = baseline('bare-worker.js', 'bench', '4', 'history');

/** Times `run`; adds its tasks/s under `key`, its CPU per task (µs) under `key-cpu`, its main thread's under `key-main`. */
async function measure(key: string, run: readonly [string, string[]], env: NodeJS.ProcessEnv): Promise<void> {
  samples.addRun(key, tasks, await timedWithMainThreadCpu(...run, { env, logFile }), 1000);
}

/** Pushes the tasks to a new local/ queue, then measures `run` on it. */
async function onPushedQueue(key: string, run: readonly [string, string[]]): Promise<void> {
  const env = scratch.freshHome();
  await timed(...push, { env, stdin: input, logFile });
  await measure(key, run, env);
}

async function runJobq(key: string, extra: string[]): Promise<void> {
  const env = scratch.freshHome();
  samples.add(`${key}-push`, perSecond(await timed(...push, { env, stdin: input, logFile })));
  await measure(key, worker(...extra), env);
}

try {
  await interleaved(rounds, [
    () => runJobq('jobq', []),
    () => runJobq('jobq-quiet', ['-q']),
    () => runJobq('jobq-bare', ['-q', '--no-history']),
    () => measure('piscina', piscina, process.env),
    () => onPushedQueue('drain', drain),
    () => onPushedQueue('bare-worker', bareWorker),
    () => onPushedQueue('bare-history', bareWorkerHistory),
  ]);
} finally {
  scratch.cleanup();
}

const line = (file: string, args: readonly string[]) => commandLine(file, args).replace(noopTask, task);
const figures = [
  figure({ key: 'jobq', label: 'jobq worker -n 4 --proc noop', command: line(...worker()), unit: 'tasks/s', samples: samples.get('jobq') }),
  figure({ key: 'jobq-quiet', label: 'jobq worker -n 4 --proc noop -q', command: line(...worker('-q')), unit: 'tasks/s', samples: samples.get('jobq-quiet') }),
  figure({ key: 'jobq-bare', label: 'jobq worker -n 4 --proc noop -q --no-history', command: line(...worker('-q', '--no-history')), unit: 'tasks/s', samples: samples.get('jobq-bare') }),
  figure({ key: 'jobq-push', label: 'jobq push (JSON lines)', command: `${line(...push)} < kwargs.jsonl`, unit: 'tasks/s', samples: samples.get('jobq-push') }),
  figure({ key: 'piscina', label: 'piscina, 4 threads, no queue', command: line(...piscina), unit: 'tasks/s', samples: samples.get('piscina') }),
  figure({ key: 'drain', label: 'the queue alone: lease 64, settle each', command: line(...drain), unit: 'tasks/s', samples: samples.get('drain') }),
  figure({ key: 'bare-worker', label: "a bare worker: jobq's SQL, 4 threads", command: line(...bareWorker), unit: 'tasks/s', samples: samples.get('bare-worker') }),
  figure({
    key: 'bare-history',
    label: "the bare worker with jobq's history row per task",
    command: line(...bareWorkerHistory),
    unit: 'tasks/s',
    samples: samples.get('bare-history'),
  }),
  // Each run's CPU per task, of the whole process and of its main thread alone.
  ...(
    [
      ['jobq', 'jobq worker -n 4 --proc noop'],
      ['jobq-quiet', 'jobq, -q'],
      ['jobq-bare', 'jobq, -q --no-history'],
      ['piscina', 'piscina'],
      ['drain', 'the queue alone'],
      ['bare-worker', 'the bare worker'],
      ['bare-history', 'the bare worker with history'],
    ] as const
  ).flatMap(([key, label]) => [
    figure({ key: `${key}-cpu`, label: `CPU: ${label}`, command: `the ${key} run`, unit: 'µs CPU/task', samples: samples.get(`${key}-cpu`) }),
    figure({ key: `${key}-main`, label: `main thread: ${label}`, command: `its main thread in the ${key} run`, unit: 'µs CPU/task', samples: samples.get(`${key}-main`) }),
  ]),
];
const [normal, quiet] = [...ratios(figures, 'jobq', ['piscina']), ...ratios(figures, 'jobq-quiet', ['piscina'])];
const beside = [
  ...ratios(figures, 'jobq-bare', ['piscina']),
  ...ratios(figures, 'jobq', ['bare-worker']),
  ...ratios(figures, 'jobq-bare', ['bare-worker']),
  ...ratios(figures, 'bare-worker', ['piscina']),
  ...ratios(figures, 'bare-history', ['piscina']),
  ...ratios(figures, 'jobq', ['bare-history']),
  ...ratios(figures, 'jobq-quiet', ['bare-history']),
  ...ratios(figures, 'jobq-cpu', ['piscina-cpu', 'bare-worker-cpu']),
  ...ratios(figures, 'jobq-main', ['piscina-main', 'bare-worker-main']),
  ...ratios(figures, 'jobq-quiet-main', ['bare-history-main']),
];
/** Absolute rates move 4x between days on a shared machine: the targets are ratios to the pool in the same run. */
const floorShare = 0.8;
report.finish({
  figures,
  ratios: [normal, quiet, ...beside].filter((ratio) => ratio !== undefined),
  targets: [
    target('jobq worker -n 4 / piscina', normal?.value ?? Number.NaN, '>=', floorShare),
    target('jobq worker -n 4 -q / piscina', quiet?.value ?? Number.NaN, '>=', floorShare),
  ],
  notes: [
    `${rounds} rounds; figures are medians; the task module is ${task}`,
    'CPU: user + system of the process, all its threads, from bash\'s `times`; on two cores a run goes at most 2 / (CPU per task) tasks a second',
    "main thread: the CPU of the process's main thread alone (/proc/self/task/PID/stat at exit): a run goes at most 1 / (its main thread's CPU per task) tasks a second",
  ],
});
