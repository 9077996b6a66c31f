import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { confirm } from '../cli/confirm.js';

export default class ClearCommand extends JobqCommand {
  static override summary = 'Remove every task from the queue.';
  static override description = 'Asks for confirmation on a terminal; elsewhere --yes is required.';
  static override flags = { yes: Flags.boolean({ char: 'y', summary: 'Do not ask.', default: false }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(ClearCommand);
    this.makeLogger(flags);
    await this.withQueue(flags, async (queue) => {
      if (!(await confirm(`Delete every task in ${queue.name}?`, flags.yes))) return;
      await queue.clear();
      this.logToStderr(`cleared ${queue.name}`);
    });
  }
}
