import { JobqCommand } from '../cli/base-command.js';

export default class SizeCommand extends JobqCommand {
  static override summary = 'Print the approximate number of tasks in the queue (leased ones included).';

  async run(): Promise<void> {
    const { flags } = await this.parse(SizeCommand);
    this.log(String(await this.withQueue(flags, (queue) => queue.size())));
  }
}
