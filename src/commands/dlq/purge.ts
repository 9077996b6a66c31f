import { Flags } from '@oclif/core';
import { JobqCommand } from '../../cli/base-command.js';
import { confirm } from '../../cli/confirm.js';

export default class DlqPurgeCommand extends JobqCommand {
  static override summary = 'Delete every record in the dead-letter queue.';
  static override flags = { yes: Flags.boolean({ char: 'y', summary: 'Do not ask.', default: false }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(DlqPurgeCommand);
    await this.withQueue(flags, async (queue) => {
      if (!(await confirm(`Delete every record in ${queue.deadLetterName}?`, flags.yes))) return;
      await queue.purgeDeadLetters();
      this.logToStderr(`purged ${queue.deadLetterName}`);
    });
  }
}
