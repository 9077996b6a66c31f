import { runWorker } from '../api/run.js';
import { JobqCommand } from '../cli/base-command.js';
import { metricsOptions, runOptions, workerFlags } from '../cli/worker-flags.js';
import { workerStatus } from '../cli/worker-status.js';

export default class WorkerCommand extends JobqCommand {
  static override summary = 'Run tasks until the queue is empty or a stop condition.';
  static override description =
    'Exit codes: 0 queue drained, time limit, SIGUSR1/SIGUSR2; 1 too many consecutive failures, or a queue store ' +
    'that cannot be used (a corrupt database); ' +
    '2 usage error; 130 SIGINT; 143 a second SIGTERM.';
  static override examples = ['<%= config.bin %> local/demo worker -n 4', '<%= config.bin %> myaccount/q worker --time-limit 6h'];
  static override flags = workerFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand);
    const status = workerStatus();
    const logger = this.makeLogger(flags, status.stderr);
    try {
      const result = await this.withOpeningQueue(flags, (queue) =>
        runWorker(queue, {
          ...runOptions(flags),
          ...metricsOptions(flags),
          proc: flags.proc,
          emulateTty: flags['emulate-tty'],
          taskTypes: this.taskTypes(logger),
          numWorkers: flags['num-workers'],
          maxConsecutiveFailures: flags['max-consecutive-failures'],
          ...(flags['time-limit'] === undefined ? {} : { timeLimitMs: flags['time-limit'] }),
          ...(flags['wait-for-tasks'] && { whenIdle: 'poll' as const }),
          handleSignals: true,
          writePidFile: true,
          logger,
          ...this.workerOutput(status),
          onStart: (worker, opened) =>
            status.start(
              () => ({ running: worker.runningCount, succeeded: worker.stats.succeeded, failed: worker.stats.failed }),
              () => opened.size(),
            ),
        }),
        { retryOutages: logger },
      );
      process.exitCode = result.exitCode;
    } finally {
      status.stop();
    }
  }
}
