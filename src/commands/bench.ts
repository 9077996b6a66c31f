import { Flags } from '@oclif/core';
import { benchKinds, benchDefaults, remoteBenchTasks } from '../measure/options.js';
import { openThrowawayQueue, runBench, type BenchReport } from '../measure/bench.js';
import { formatReport } from '../measure/report.js';
import { JobqCommand } from '../cli/base-command.js';
import { progressBar, type Progress } from '../cli/progress.js';
import { parseSpec } from '../backends/spec.js';
import { UsageError } from '../errors.js';
import { countLimits } from '../options/limits.js';
import type { JobQueue } from '../queue.js';

const concurrencyList = Flags.custom<number[]>({
  parse: async (text) =>
    text.split(',').map((item) => {
      const value = Number(item.trim());
      if (!Number.isSafeInteger(value) || value < 1 || value > countLimits.numWorkers) {
        throw new UsageError(
          `--concurrency: "${item}" is not a worker count (a comma-separated list of integers from 1 to ${countLimits.numWorkers})`,
        );
      }
      return value;
    }),
});

export default class BenchCommand extends JobqCommand {
  static override summary = 'Measure enqueue rate, tasks/s, lease-to-settle latency and memory at several --num-workers.';
  static override description =
    'Pushes no-op tasks (shell: `true`; function: a module that returns at once) and runs them through a worker ' +
    'at each concurrency, then recommends, for each kind, the concurrency with the most tasks/s. Without a spec it ' +
    'runs on a throw-away local queue (JOBQ_QUEUE is not used); with one, that queue and its NAME-failed must be ' +
    'empty, and are left empty.';
  static override examples = [
    '<%= config.bin %> bench',
    '<%= config.bin %> bench --concurrency 1,4,16 --tasks 500 --json',
    '<%= config.bin %> myaccount/benchq bench --kind shell',
  ];
  static override flags = {
    concurrency: concurrencyList({
      summary: 'Worker slot counts to measure, comma-separated.',
      default: [...benchDefaults.concurrencies],
      defaultHelp: async () => benchDefaults.concurrencies.join(','),
    }),
    tasks: Flags.integer({
      summary:
        `Tasks per run (default ${benchDefaults.tasks.shell} shell and ${benchDefaults.tasks.function} function tasks; ` +
        `${remoteBenchTasks.shell} of each on Azure).`,
      min: 1,
      max: countLimits.benchTasks,
    }),
    kind: Flags.option({ options: benchKinds, multiple: true, delimiter: ',', summary: 'Task kinds to measure.' })(),
    json: Flags.boolean({ summary: 'Print the report as one JSON object.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchCommand);
    this.makeLogger(flags);
    let progress: Progress | undefined;
    const local = flags.queue === undefined || parseSpec(flags.queue, this.specEnvironment(flags)).kind === 'local';
    const tasks = flags.tasks === undefined ? (local ? benchDefaults.tasks : remoteBenchTasks) : { shell: flags.tasks, function: flags.tasks };
    const bench = (queue: JobQueue): Promise<BenchReport> =>
      runBench(queue, {
        concurrencies: flags.concurrency,
        tasks,
        ...(flags.kind === undefined ? {} : { kinds: flags.kind }),
        onProgress: (done, total) => {
          progress ??= progressBar(total, 'tasks');
          progress.update(done);
        },
      });
    let report: BenchReport;
    try {
      report = flags.queue === undefined ? await this.withThrowawayQueue(bench) : await this.withQueue(flags, bench);
    } finally {
      progress?.stop();
    }
    this.log(flags.json ? JSON.stringify(report) : formatReport(report));
  }

  private async withThrowawayQueue<T>(fn: (queue: JobQueue) => Promise<T>): Promise<T> {
    const { queue, dispose } = await openThrowawayQueue();
    try {
      return await fn(queue);
    } finally {
      await dispose();
    }
  }
}
