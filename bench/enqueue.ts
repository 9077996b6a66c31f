/**
 * Enqueue side by side: N tasks (default 100,000), one shell command a line
 * on stdin, pushed by `jobq push` to local/ and to Azurite, against the
 * storage's own floor: the same message bodies inserted into SQLite in one
 * transaction, and sent to Azurite with the SDK alone at jobq's concurrency.
 * The figure is tasks/s of the process, start-up included. Azurite runs
 * enqueue only (no deletes) on a fresh store each time, and stops after.
 *
 *   node dist/bench/enqueue.js [--rounds 3] [--azurite-rounds 1] [--tasks 100000]
 */
import { createTask, serializeTask } from '../src/task/task.js';
import { shellTaskKwargs } from '../src/push.js';
import { baseline, commandLine, integerOptions, jobq, lines, Scratch, startAzurite } from './lib/jobq.js';
import { timed } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target } from './lib/results.js';

const options = integerOptions({ rounds: 3, 'azurite-rounds': 1, tasks: 100_000 });
const { tasks } = options;
const report = new Report('enqueue', `enqueue of ${tasks} tasks from stdin: jobq push vs the storage's floor`);
const scratch = new Scratch();
const commands = lines(tasks, (index) => `echo task ${index}`);
const input = scratch.file('commands.txt', commands);
const bodies = scratch.file('bodies.txt', commands.map((cmd) => serializeTask(createTask(shellTaskKwargs(cmd)))));
const logFile = scratch.path('output.log');
const samples = new Samples();
const perSecond = (ms: number) => tasks / (ms / 1000);

const push = jobq('local/bench', 'push');
const sqliteFloor = (file: string) => baseline('sqlite-insert.js', bodies, file);
/** 10 batches in flight (push --num-workers) x 16 sends per batch (the Azure backend). */
const azureFloor = baseline('azure-send.js', bodies, 'bench', '160');

const azurite = await startAzurite();
try {
  await interleaved(options.rounds, [
    async () => samples.add('jobq-local', perSecond(await timed(...push, { env: scratch.freshHome(), stdin: input, logFile }))),
    async (round) => samples.add('sqlite-floor', perSecond(await timed(...sqliteFloor(scratch.path(`floor-${round}.db`)), { logFile }))),
  ]);
  const env = { ...scratch.freshHome(), JOBQ_CONNECTION_STRING: azurite.connectionString };
  await interleaved(options['azurite-rounds'], [
    async () => {
      await azurite.restart();
      samples.add('jobq-azurite', perSecond(await timed(...push, { env, stdin: input, logFile })));
    },
    async () => {
      await azurite.restart();
      samples.add('azure-floor', perSecond(await timed(...azureFloor, { env, logFile })));
    },
  ]);
} finally {
  await azurite.stop();
  scratch.cleanup();
}

const figures = [
  figure({ key: 'jobq-local', label: 'jobq push (local/)', command: `${commandLine(...push)} < commands.txt`, unit: 'tasks/s', samples: samples.get('jobq-local') }),
  figure({ key: 'sqlite-floor', label: 'SQLite insert, one transaction', command: commandLine(...sqliteFloor('x.db')), unit: 'tasks/s', samples: samples.get('sqlite-floor') }),
  figure({ key: 'jobq-azurite', label: 'jobq push (Azurite)', command: `${commandLine(...push).replace('local/bench', 'x/bench')} < commands.txt`, unit: 'tasks/s', samples: samples.get('jobq-azurite') }),
  figure({ key: 'azure-floor', label: 'Azure SDK sendMessage, 160 in flight (Azurite)', command: commandLine(...azureFloor), unit: 'tasks/s', samples: samples.get('azure-floor') }),
];
const all = [...ratios(figures, 'jobq-local', ['sqlite-floor']), ...ratios(figures, 'jobq-azurite', ['azure-floor'])];
report.finish({
  figures,
  ratios: all,
  targets: [
    target('jobq push (local/), tasks/s', figures[0]?.value ?? Number.NaN, '>=', 50_000),
    target('jobq push (Azurite), times the SDK alone at the same concurrency', all.find((ratio) => ratio.of === 'jobq-azurite / azure-floor')?.value ?? Number.NaN, '>=', 0.8),
  ],
  notes: [
    `${options.rounds} local rounds, ${options['azurite-rounds']} Azurite; figures are medians`,
    'the floors store the exact message bodies jobq push writes, encoded beforehand',
  ],
});
