import { Flags } from '@oclif/core';
import { benchDefaults, benchKinds, defaultConcurrencies, remoteFirstRates } from '../measure/options.js';
import { openThrowawayQueue, runBench, type BenchReport } from '../measure/bench.js';
import { formatReport } from '../measure/report.js';
import { JobqCommand } from '../cli/base-command.js';
import { withInterrupts } from '../cli/interrupts.js';
import { progressBar, type Progress } from '../cli/progress.js';
import { UsageError } from '../errors.js';
import { countLimits } from '../options/limits.js';
import type { JobQueue } from '../queue/job-queue.js';

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
  static override summary = 'Measure tasks/s, enqueue rate, lease-to-settle latency and memory at several --num-workers.';
  static override description =
    'Pushes no-op tasks (shell: `true`; function: a module that returns at once) and runs them through a worker ' +
    'at each concurrency, each several times, interleaved; then recommends, for each kind, the fewest workers ' +
    'whose rate the runs cannot tell from the fastest. About a minute by default (--seconds). Ctrl-C stops it and ' +
    'prints what was measured. Without a spec it runs on a throw-away local queue (JOBQ_QUEUE is not used); with ' +
    'one, that queue and its NAME-failed must be empty, and are left empty.';
  static override examples = [
    '<%= config.bin %> bench',
    '<%= config.bin %> bench --concurrency 1,4,16 --seconds 20 --json',
    '<%= config.bin %> myaccount/benchq bench --kind shell',
  ];
  static override flags = {
    concurrency: concurrencyList({
      summary: 'Worker slot counts to measure, comma-separated.',
      defaultHelp: async () => `${defaultConcurrencies().join(',')} (up to 4 per CPU)`,
    }),
    seconds: Flags.integer({
      summary: 'About how long the bench takes.',
      default: benchDefaults.seconds,
      min: 1,
      max: countLimits.benchSeconds,
    }),
    repeat: Flags.integer({
      summary: 'Runs of each kind and concurrency (their spread is the noise).',
      default: benchDefaults.repeats,
      min: 1,
      max: countLimits.benchRepeats,
    }),
    tasks: Flags.integer({ summary: 'A fixed number of tasks per run, instead of runs sized by --seconds.', min: 1, max: countLimits.benchTasks }),
    kind: Flags.option({ options: benchKinds, multiple: true, delimiter: ',', summary: 'Task kinds to measure.' })(),
    json: Flags.boolean({ summary: 'Print the report as one JSON object.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BenchCommand);
    const logger = this.makeLogger(flags);
    // Azure takes fewer tasks at first: each is a few HTTP requests.
    const local = flags.queue === undefined || !this.queueTarget(flags).kind.startsWith('azure');
    let progress: Progress | undefined;
    const report = await withInterrupts((signal) => {
      const bench = (queue: JobQueue): Promise<BenchReport> =>
        runBench(queue, {
          ...(flags.concurrency && { concurrencies: flags.concurrency }),
          ...(flags.kind && { kinds: flags.kind }),
          ...(flags.tasks !== undefined && { tasks: { shell: flags.tasks, function: flags.tasks } }),
          ...(!local && { firstRates: remoteFirstRates }),
          seconds: flags.seconds,
          repeats: flags.repeat,
          signal,
          onRun: (run, done, planned) => {
            if (process.stderr.isTTY) {
              progress ??= progressBar(planned, 'runs');
              progress.update(done);
              return;
            }
            logger.info(
              { event: 'bench_run', ...run },
              `bench: run ${done} of ${planned}: ${run.kind} tasks, ${run.concurrency} worker(s): ` +
                `${Math.round(run.tasksPerSecond)} tasks/s (${run.tasks} tasks)`,
            );
          },
        }).finally(() => progress?.stop());
      return flags.queue === undefined ? this.withThrowawayQueue(bench) : this.withQueue(flags, bench);
    });
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
