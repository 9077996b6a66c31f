import { JobqCommand } from '../cli/base-command.js';
import { runFlags, runOptions } from '../cli/worker-flags.js';
import { Worker } from '../worker/worker.js';

export default class PullCommand extends JobqCommand {
  static override summary = 'Lease one task, run it and settle it.';
  static override flags = runFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(PullCommand);
    const logger = this.makeLogger(flags);
    const processor = await this.makeProcessor(flags, 1, logger);
    try {
      const result = await this.withQueue(flags, (queue) =>
        new Worker(queue, processor, {
          maxTasks: 1,
          whenIdle: 'exit',
          ...runOptions(flags),
          handleSignals: true,
          logger,
        }).run(),
      );
      if (result.leased === 0) this.log('the queue is empty');
      process.exitCode = result.exitCode !== 0 ? result.exitCode : result.stats.failed > 0 ? 1 : 0;
    } finally {
      await processor.close();
    }
  }
}
