/**
 * jobq's worker on Azure Storage (Azurite), each figure beside its floor:
 *
 * - no-op function tasks at -n 4, straight to Azurite and through a proxy
 *   that adds 10 ms each way (a VM and a storage account in its region),
 *   against the SDK alone on the same link (baselines/azure-drain.ts: 4 loops
 *   that receive 32 and delete them), and against the SDK alone also writing
 *   the history's table entities for each task (the floor of a worker that
 *   keeps the history, as jobq does by default);
 * - `sleep 0.05` shell tasks through the proxy at -n 4 and -n 16, against the
 *   ideal n / 0.05 s (slots that never wait on storage), and at -n 16 against
 *   the same on local/ (the same process creation, no storage round trips:
 *   on two cores, 320 shells a second are more than the cores start);
 * - `true` shell tasks at -n 4 on Azurite, against the same on local/ (the
 *   same process creation).
 *
 * Each run starts on a fresh Azurite (its in-memory store slows down after
 * thousands of deletes); the tasks are pushed straight to it beforehand, and
 * only the worker (or the floor) is timed: its process from start to exit,
 * start-up included.
 *
 *   node dist/bench/azure.js [--rounds 2] [--functions 1000] [--sleeps 1600] [--shell 600]
 */
import { startTcpProxy, type TcpProxy } from '../test/helpers/tcp-proxy.js';
import { baseline, commandLine, integerOptions, jobq, lines, noopTask, Scratch, startAzurite } from './lib/jobq.js';
import { timed, timedWithCpu } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target, type Figure } from './lib/results.js';

const options = integerOptions({ rounds: 2, functions: 1000, sleeps: 1600, shell: 600 });
const latencyMs = 10;
const sleepS = 0.05;
const report = new Report('azure', `jobq's worker on Azurite, straight and through a ${latencyMs} ms-each-way proxy, beside its floors`);
const scratch = new Scratch();
const inputs = {
  functions: scratch.file('kwargs.jsonl', lines(options.functions, (index) => JSON.stringify({ i: index }))),
  sleeps: scratch.file('sleep.txt', lines(options.sleeps, () => `sleep ${sleepS}`)),
  shell: scratch.file('true.txt', lines(options.shell, () => 'true')),
};
const logFile = scratch.path('output.log');
const samples = new Samples();

const spec = 'x/bench';
const push = jobq(spec, 'push');
const worker = (n: number, ...extra: string[]) => jobq(spec, 'worker', '-n', String(n), ...extra);
const functionWorker = worker(4, '--proc', noopTask);
/** Without the history and the two log lines per task: the worker loop and the storage alone. */
const bareFunctionWorker = worker(4, '--proc', noopTask, '--no-history', '-q');
const drain = baseline('azure-drain.js', 'bench', '4');
const drainWithHistory = baseline('azure-drain.js', 'bench', '4', 'history');

const azurite = await startAzurite();
/** Both services behind the proxy: the worker's history and worker rows go to the table service. */
const proxies: TcpProxy[] = await Promise.all(
  [azurite.port, azurite.tablePort].map((port) => startTcpProxy({ host: '127.0.0.1', port }, { latencyMs })),
);
const viaProxy = proxies.reduce(
  (text, proxy, index) => text.replace(`:${index === 0 ? azurite.port : azurite.tablePort}/`, `:${proxy.port}/`),
  azurite.connectionString,
);
const env = (connectionString: string): NodeJS.ProcessEnv => ({ ...scratch.freshHome(), JOBQ_CONNECTION_STRING: connectionString });

/**
 * On a fresh Azurite: pushes `input` straight to it, then times `run` with
 * `connectionString`; adds its tasks/s and CPU per task (Samples.addRun) and Azurite's CPU per task
 * during the run under `key-azurite-cpu`.
 */
async function onAzure(key: string, input: string, tasks: number, run: [string, string[]], connectionString: string): Promise<void> {
  await azurite.restart();
  await timed(...push, { env: env(azurite.connectionString), stdin: input, logFile });
  const azuriteBefore = azurite.cpuSeconds();
  samples.addRun(key, tasks, await timedWithCpu(...run, { env: env(connectionString), logFile }));
  samples.add(`${key}-azurite-cpu`, ((azurite.cpuSeconds() - azuriteBefore) * 1000) / tasks);
}

const local = (...args: string[]) => jobq('local/bench', ...args);

/** On a new local/ queue: pushes `input`, then times a worker of `n` slots; adds its tasks/s and CPU per task. */
async function onLocal(key: string, input: string, tasks: number, n: number): Promise<void> {
  const home = scratch.freshHome();
  await timed(...local('push'), { env: home, stdin: input, logFile });
  samples.addRun(key, tasks, await timedWithCpu(...local('worker', '-n', String(n)), { env: home, logFile }));
}

const direct = azurite.connectionString;
try {
  await interleaved(options.rounds, [
    () => onAzure('functions', inputs.functions, options.functions, functionWorker, direct),
    () => onAzure('functions-floor', inputs.functions, options.functions, drain, direct),
    () => onAzure('functions-floor-history', inputs.functions, options.functions, drainWithHistory, direct),
    () => onAzure('functions-bare', inputs.functions, options.functions, bareFunctionWorker, direct),
    () => onAzure('functions-proxy', inputs.functions, options.functions, functionWorker, viaProxy),
    () => onAzure('functions-proxy-floor', inputs.functions, options.functions, drain, viaProxy),
    () => onAzure('functions-proxy-floor-history', inputs.functions, options.functions, drainWithHistory, viaProxy),
    () => onAzure('sleep-4', inputs.sleeps, options.sleeps, worker(4), viaProxy),
    () => onAzure('sleep-16', inputs.sleeps, options.sleeps, worker(16), viaProxy),
    () => onAzure('sleep-16-direct', inputs.sleeps, options.sleeps, worker(16), direct),
    () => onLocal('sleep-16-local', inputs.sleeps, options.sleeps, 16),
    () => onAzure('true-azurite', inputs.shell, options.shell, worker(4), direct),
    () => onLocal('true-local', inputs.shell, options.shell, 4),
  ]);
} finally {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await azurite.stop();
  scratch.cleanup();
}

const line = (argv: readonly [string, readonly string[]]) => commandLine(argv[0], argv[1]).replace(noopTask, 'noop-task.js');
const ideal = (n: number): Figure =>
  figure({ key: `sleep-${n}-ideal`, label: `ideal at -n ${n}: ${n} / ${sleepS} s`, command: '—', unit: 'tasks/s', samples: [n / sleepS] });
const proxied = `(${latencyMs} ms proxy)`;
/** Where each run's CPU went, per task: jobq (or the floor) with the shells it ran, and Azurite beside it. */
function cpuFigures(): Figure[] {
  const onAzurite = ['functions', 'functions-floor', 'functions-floor-history', 'functions-bare', 'functions-proxy', 'functions-proxy-floor', 'functions-proxy-floor-history', 'sleep-4', 'sleep-16', 'sleep-16-direct', 'true-azurite'];
  const cpu = (key: string, of: string) => figure({ key, label: `  CPU: ${of}`, command: 'the same runs', unit: 'ms CPU/task', samples: samples.get(key) });
  return [
    ...onAzurite.flatMap((key) => [cpu(`${key}-cpu`, `${key}: jobq or the floor, with its shells`), cpu(`${key}-azurite-cpu`, `${key}: Azurite`)]),
    ...['sleep-16-local', 'true-local'].map((key) => cpu(`${key}-cpu`, `${key}: jobq, with its shells`)),
  ];
}
const figures = [
  figure({ key: 'functions', label: 'jobq -n 4 --proc noop (Azurite)', command: line(functionWorker), unit: 'tasks/s', samples: samples.get('functions') }),
  figure({ key: 'functions-floor', label: 'SDK alone: 4 x (receive 32, delete) (Azurite)', command: line(drain), unit: 'tasks/s', samples: samples.get('functions-floor') }),
  figure({
    key: 'functions-floor-history',
    label: 'SDK alone, writing the history entities too (Azurite)',
    command: line(drainWithHistory),
    unit: 'tasks/s',
    samples: samples.get('functions-floor-history'),
  }),
  figure({ key: 'functions-bare', label: 'jobq -n 4 --proc noop --no-history -q (Azurite)', command: line(bareFunctionWorker), unit: 'tasks/s', samples: samples.get('functions-bare') }),
  figure({ key: 'functions-proxy', label: `jobq -n 4 --proc noop ${proxied}`, command: line(functionWorker), unit: 'tasks/s', samples: samples.get('functions-proxy') }),
  figure({ key: 'functions-proxy-floor', label: `SDK alone ${proxied}`, command: line(drain), unit: 'tasks/s', samples: samples.get('functions-proxy-floor') }),
  figure({
    key: 'functions-proxy-floor-history',
    label: `SDK alone, writing the history entities too ${proxied}`,
    command: line(drainWithHistory),
    unit: 'tasks/s',
    samples: samples.get('functions-proxy-floor-history'),
  }),
  figure({ key: 'sleep-4', label: `jobq -n 4 \`sleep ${sleepS}\` ${proxied}`, command: line(worker(4)), unit: 'tasks/s', samples: samples.get('sleep-4') }),
  ideal(4),
  figure({ key: 'sleep-16', label: `jobq -n 16 \`sleep ${sleepS}\` ${proxied}`, command: line(worker(16)), unit: 'tasks/s', samples: samples.get('sleep-16') }),
  ideal(16),
  figure({ key: 'sleep-16-direct', label: `jobq -n 16 \`sleep ${sleepS}\` (Azurite, no proxy)`, command: line(worker(16)), unit: 'tasks/s', samples: samples.get('sleep-16-direct') }),
  figure({ key: 'sleep-16-local', label: `jobq -n 16 \`sleep ${sleepS}\` (local/)`, command: line(local('worker', '-n', '16')), unit: 'tasks/s', samples: samples.get('sleep-16-local') }),
  figure({ key: 'true-azurite', label: 'jobq -n 4 `true` (Azurite)', command: line(worker(4)), unit: 'tasks/s', samples: samples.get('true-azurite') }),
  figure({ key: 'true-local', label: 'jobq -n 4 `true` (local/)', command: line(local('worker', '-n', '4')), unit: 'tasks/s', samples: samples.get('true-local') }),
  ...cpuFigures(),
];
const all = [
  ...ratios(figures, 'functions', ['functions-floor', 'functions-floor-history']),
  ...ratios(figures, 'functions-floor-history', ['functions-floor']),
  ...ratios(figures, 'functions-bare', ['functions-floor']),
  ...ratios(figures, 'functions-proxy', ['functions-proxy-floor', 'functions-proxy-floor-history']),
  ...ratios(figures, 'functions-proxy-floor-history', ['functions-proxy-floor']),
  ...ratios(figures, 'sleep-4', ['sleep-4-ideal']),
  ...ratios(figures, 'sleep-16', ['sleep-16-ideal', 'sleep-16-direct', 'sleep-16-local']),
  ...ratios(figures, 'true-azurite', ['true-local']),
];
const value = (of: string) => all.find((ratio) => ratio.of === of)?.value ?? Number.NaN;
report.finish({
  figures,
  ratios: all,
  targets: [
    target('function tasks -n 4, times the SDK alone (Azurite)', value('functions / functions-floor'), '>=', 0.8),
    target(`function tasks -n 4, times the SDK alone ${proxied}`, value('functions-proxy / functions-proxy-floor'), '>=', 0.8),
    target(`\`sleep ${sleepS}\` -n 16 ${proxied}, times the ideal`, value('sleep-16 / sleep-16-ideal'), '>=', 0.8),
    target('`true` -n 4 on Azurite, times local/', value('true-azurite / true-local'), '>=', 0.9),
  ],
  notes: [
    `${options.rounds} rounds; figures are medians; each run on a fresh Azurite, the tasks pushed beforehand (not timed)`,
    'the worker figures include its start-up (about 0.2 s); Azurite shares the two cores with jobq',
    `the proxy delays every chunk ${latencyMs} ms each way, for the queue and the table service (history, worker rows)`,
    'CPU: user + system per task, of the measured process with every process it waited for (bash\'s `times`), and of Azurite\'s two processes over the same run (/proc); on two cores a run goes at most 2 / (their sum) tasks a second',
  ],
});
