import { Flags } from '@oclif/core';
import { JobqCommand } from '../../cli/base-command.js';
import { countLimits } from '../../options/limits.js';

export default class DlqRequeueCommand extends JobqCommand {
  static override summary = 'Put dead-lettered tasks back on the queue.';
  static override flags = {
    number: Flags.integer({ char: 'n', summary: 'Requeue at most this many (default: all).', min: 1, max: countLimits.requeue }),
    'num-retries': Flags.integer({ summary: 'Give each task this many retries (default: as it was).', min: 0, max: countLimits.numRetries }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DlqRequeueCommand);
    const moved = await this.withQueue(flags, (queue) =>
      queue.requeueDeadLetters({
        ...(flags.number === undefined ? {} : { max: flags.number }),
        ...(flags['num-retries'] === undefined ? {} : { numRetries: flags['num-retries'] }),
      }),
    );
    this.logToStderr(`requeued ${moved} task(s)`);
  }
}
