import { pullOne } from '../api/run.js';
import { JobqCommand } from '../cli/base-command.js';
import { runFlags, runOptions } from '../cli/worker-flags.js';
import { workerStatus } from '../cli/worker-status.js';
import { exitCodeForPull } from '../exit-codes.js';

export default class PullCommand extends JobqCommand {
  static override summary = 'Lease one task, run it and settle it.';
  static override description = 'Exit codes: 0 the task succeeded (or the queue is empty); 1 it failed; 2 usage error; 130 SIGINT.';
  static override flags = runFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(PullCommand);
    const status = workerStatus();
    const logger = this.makeLogger(flags, status.stderr);
    const result = await this.withQueue(flags, (queue) =>
      pullOne(queue, {
        ...runOptions(flags),
        proc: flags.proc,
        emulateTty: flags['emulate-tty'],
        taskTypes: this.taskTypes(logger),
        handleSignals: true,
        logger,
        ...this.workerOutput(status),
      }),
      { retryOutages: logger },
    );
    if (result.leased === 0) this.log('the queue is empty');
    process.exitCode = exitCodeForPull(result);
  }
}
