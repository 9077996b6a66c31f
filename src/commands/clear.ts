import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { confirm } from '../cli/confirm.js';

export default class ClearCommand extends JobqCommand {
  static override summary = 'Remove every task from the queue.';
  static override description =
    'Asks for confirmation on a terminal (unless --yes); in a script it clears at once, as ai4s-jobq does.';
  static override flags = { yes: Flags.boolean({ char: 'y', summary: 'Do not ask.', default: false }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(ClearCommand);
    await this.withQueue(flags, async (queue) => {
      if (!(await confirm(`Delete every task in ${queue.name}?`, flags.yes, { withoutTerminal: 'proceed' }))) return;
      await queue.clear();
      this.logToStderr(`cleared ${queue.name}`);
    });
  }
}
