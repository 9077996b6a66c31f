/**
 * Shell tasks side by side: N `true` commands (default 2,000), 4 at a time,
 * through jobq (local/ and Azurite), GNU parallel and xargs. The figure is
 * tasks/s of the command that runs them (jobq's worker process from start to
 * exit, start-up included); jobq's push is reported on its own.
 *
 *   node dist/bench/shell.js [--rounds 3] [--tasks 2000]
 */
import { commandLine, integerOptions, jobq, lines, Scratch, startAzurite } from './lib/jobq.js';
import { ensureCommand, timed, timedWithCpu } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target, type Figure } from './lib/results.js';

const { rounds, tasks } = integerOptions({ rounds: 3, tasks: 2000 });
const report = new Report('shell', `${tasks} \`true\` commands, 4 at a time: jobq vs GNU parallel vs xargs`);
const scratch = new Scratch();
const input = scratch.file('true.txt', lines(tasks, () => 'true'));
const logFile = scratch.path('output.log');
const hasParallel = ensureCommand('parallel', 'parallel');
const azurite = await startAzurite();
const samples = new Samples();
const perSecond = (ms: number) => tasks / (ms / 1000);

const push = jobq('local/bench', 'push');
const worker = jobq('local/bench', 'worker', '-n', '4');
const parallel = ['parallel', ['-j4']] as const;
const xargs = ['xargs', ['-d', '\\n', '-n1', '-P4', 'bash', '-c']] as const;

/** jobq on a fresh queue: push, then the worker; `env` picks the backend. */
async function runJobq(key: string, env: NodeJS.ProcessEnv): Promise<void> {
  const pushMs = await timed(...push, { env, stdin: input, logFile });
  const usage = await timedWithCpu(...worker, { env, logFile });
  samples.addRun(key, tasks, usage);
  samples.add(`${key}-push`, perSecond(pushMs));
  samples.add(`${key}-end-to-end`, perSecond(pushMs + usage.ms));
}

try {
  await interleaved(rounds, [
    () => runJobq('jobq-local', scratch.freshHome()),
    async () => {
      await azurite.restart(); // a fresh store each round: Azurite slows down after thousands of deletes
      await runJobq('jobq-azurite', { ...scratch.freshHome(), JOBQ_CONNECTION_STRING: azurite.connectionString });
    },
    async () => samples.add('jobq-startup', (await timed(...worker, { env: scratch.freshHome(), logFile })) / 1000),
    async () => {
      if (!hasParallel) return;
      const env = { ...process.env, SHELL: '/bin/bash' };
      samples.add('parallel', perSecond(await timed(...parallel, { env, stdin: input, logFile })));
    },
    async () => samples.addRun('xargs', tasks, await timedWithCpu(...xargs, { stdin: input, logFile })),
  ]);
} finally {
  await azurite.stop();
  scratch.cleanup();
}

const line = (argv: readonly [string, readonly string[]]) => commandLine(argv[0], argv[1]);
const cpuUnit = 'ms CPU/task';
const jobqFigures = (key: string, where: string, spec: string): Figure[] => [
  figure({ key, label: `jobq worker -n 4 (${where})`, command: line(worker).replace('local/bench', spec), unit: 'tasks/s', samples: samples.get(key) }),
  figure({ key: `${key}-cpu`, label: `  its CPU and its shells' (${where})`, command: 'the same run', unit: cpuUnit, samples: samples.get(`${key}-cpu`) }),
  figure({ key: `${key}-push`, label: `jobq push (${where})`, command: `${line(push).replace('local/bench', spec)} < tasks.txt`, unit: 'tasks/s', samples: samples.get(`${key}-push`) }),
  figure({ key: `${key}-end-to-end`, label: `jobq push + worker (${where})`, command: 'both of the above', unit: 'tasks/s', samples: samples.get(`${key}-end-to-end`) }),
];
const alternatives = hasParallel ? ['parallel', 'xargs'] : ['xargs'];
const figures = [
  ...jobqFigures('jobq-local', 'local/', 'local/bench'),
  ...jobqFigures('jobq-azurite', 'Azurite', 'x/bench --conn-str …'),
  figure({ key: 'jobq-startup', label: 'jobq worker start-up (empty queue)', command: line(worker), unit: 's', samples: samples.get('jobq-startup') }),
  ...(hasParallel
    ? [figure({ key: 'parallel', label: 'GNU parallel -j4', command: `SHELL=/bin/bash ${line(parallel)} < tasks.txt`, unit: 'tasks/s', samples: samples.get('parallel') })]
    : []),
  figure({ key: 'xargs', label: 'xargs -P4 bash -c', command: `${line(xargs)} < tasks.txt`, unit: 'tasks/s', samples: samples.get('xargs') }),
  figure({ key: 'xargs-cpu', label: "  its CPU and its shells'", command: 'the same run', unit: cpuUnit, samples: samples.get('xargs-cpu') }),
];
const all = [
  ...ratios(figures, 'jobq-local', alternatives),
  ...ratios(figures, 'jobq-azurite', alternatives),
  ...ratios(figures, 'jobq-local-cpu', ['xargs-cpu']),
];
const value = (of: string) => all.find((ratio) => ratio.of === of)?.value ?? Number.NaN;
report.finish({
  figures,
  ratios: all,
  targets: [
    ...(hasParallel ? [target('jobq (local) tasks/s, times GNU parallel\'s', value('jobq-local / parallel'), '>=', 2)] : []),
    target('jobq (local) tasks/s, times xargs\'', value('jobq-local / xargs'), '>=', 1),
  ],
  notes: [
    `${rounds} rounds; figures are medians; each task is \`bash -c true\` for every tool`,
    'CPU: user + system of the command and every process it waited for (its shells), from bash\'s `times`; on two cores a run that keeps both busy goes at most 2 / (CPU per task) tasks a second',
    'jobq (local) CPU per task less xargs\': what the worker itself spends on each task (lease, settle, output pipes, session watch); start-up is in both',
  ],
});
