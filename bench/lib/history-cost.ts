/**
 * What the task history costs a worker, on one backend: the same run with
 * history on (the default) and off (JOBQ_HISTORY=0), interleaved round by
 * round. Shell tasks (`true`, -n 4) and no-op function tasks (-n 4, -q),
 * where the per-task overhead shows most. The figure is tasks/s of the
 * worker process, start-up included; the target is history-on within 5% of
 * history-off. bench/history.ts (local/) and bench/pg-history.ts run it.
 */
import { commandLine, integerOptions, jobq, lines, noopTask, Scratch } from './jobq.js';
import { timed } from './processes.js';
import { figure, interleaved, Report, Samples, target, type Figure } from './results.js';

export interface HistoryCostOptions {
  /** The script's name, as its results file is named. */
  readonly script: string;
  /** The backend as the title names it ("local/", "PostgreSQL"). */
  readonly backend: string;
  /** The queue every run uses (it is empty after each run). */
  readonly spec: string;
  readonly defaults: { readonly rounds: number; readonly shell: number; readonly functions: number };
  /** What the runs need besides a fresh JOBQ_HOME (the database's URL). */
  readonly env?: NodeJS.ProcessEnv;
  /** How the runs share or do not share their store, for the notes. */
  readonly storeNote: string;
  readonly cleanup?: () => Promise<void>;
}

export async function measureHistoryCost(options: HistoryCostOptions): Promise<void> {
  const { rounds, shell, functions } = integerOptions(options.defaults);
  const report = new Report(
    options.script,
    `task history on vs off: ${shell} shell tasks and ${functions} function tasks at -n 4 on ${options.backend}`,
  );
  const scratch = new Scratch();
  const shellInput = scratch.file('true.txt', lines(shell, () => 'true'));
  const functionInput = scratch.file('kwargs.jsonl', lines(functions, (index) => JSON.stringify({ i: index })));
  const logFile = scratch.path('output.log');
  const samples = new Samples();

  const push = jobq(options.spec, 'push');
  const shellWorker = jobq(options.spec, 'worker', '-n', '4');
  const functionWorker = jobq(options.spec, 'worker', '-n', '4', '--proc', noopTask, '-q');

  /** Pushes `input`, then times the worker with history on or off. */
  async function run(key: string, input: string, worker: [string, string[]], tasks: number, history: boolean): Promise<void> {
    const env = { ...scratch.freshHome(), ...options.env, JOBQ_HISTORY: history ? '1' : '0' };
    await timed(...push, { env, stdin: input, logFile });
    samples.add(key, tasks / ((await timed(...worker, { env, logFile })) / 1000));
  }

  try {
    await interleaved(rounds, [
      () => run('shell-on', shellInput, shellWorker, shell, true),
      () => run('shell-off', shellInput, shellWorker, shell, false),
      () => run('functions-on', functionInput, functionWorker, functions, true),
      () => run('functions-off', functionInput, functionWorker, functions, false),
    ]);
  } finally {
    scratch.cleanup();
    await options.cleanup?.();
  }

  const fig = (key: string, label: string, worker: [string, string[]], history: boolean): Figure =>
    figure({ key, label, command: `JOBQ_HISTORY=${history ? 1 : 0} ${commandLine(...worker)}`, unit: 'tasks/s', samples: samples.get(key) });
  const figures = [
    fig('shell-on', 'shell tasks, history on', shellWorker, true),
    fig('shell-off', 'shell tasks, history off', shellWorker, false),
    fig('functions-on', 'function tasks, history on', functionWorker, true),
    fig('functions-off', 'function tasks, history off', functionWorker, false),
  ];
  const value = (key: string) => figures.find((f) => f.key === key)?.value ?? Number.NaN;
  const ratios = [
    { of: 'shell-on / shell-off', unit: 'tasks/s', value: value('shell-on') / value('shell-off') },
    { of: 'functions-on / functions-off', unit: 'tasks/s', value: value('functions-on') / value('functions-off') },
  ];
  report.finish({
    figures,
    ratios,
    targets: [
      target('shell tasks/s with history, times without (within 5%)', ratios[0]?.value ?? Number.NaN, '>=', 0.95),
      target('function tasks/s with history, times without (within 5%)', ratios[1]?.value ?? Number.NaN, '>=', 0.95),
    ],
    notes: [
      `${rounds} rounds, interleaved; figures are medians; ${options.storeNote}`,
      'the machine is shared with other developers: see loadAverage for the load during the run',
    ],
  });
}
