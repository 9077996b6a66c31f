import { JobqCommand } from '../cli/base-command.js';
import { runFlags } from '../cli/worker-flags.js';
import { createProcessor } from '../processors/registry.js';
import { Worker } from '../worker/worker.js';

export default class PullCommand extends JobqCommand {
  static override summary = 'Lease one task, run it and settle it.';
  static override flags = runFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(PullCommand);
    const logger = this.makeLogger(flags);
    const processor = await createProcessor(
      flags.proc,
      { numWorkers: 1, emulateTty: flags['emulate-tty'] },
      this.config,
      (warning) => logger.warn({ event: 'task_type_warning' }, warning),
    );
    try {
      const result = await this.withQueue(flags, (queue) =>
        new Worker(queue, processor, {
          maxTasks: 1,
          whenIdle: 'exit',
          visibilityTimeoutMs: flags['visibility-timeout'],
          heartbeat: flags.heartbeat,
          ...(flags['max-deliveries'] === undefined ? {} : { maxDeliveries: flags['max-deliveries'] }),
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
