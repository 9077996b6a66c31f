import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { countLimits } from '../options/limits.js';
import { peekJson, peekJsonLines, peekText } from '../cli/peek-output.js';
import { EmptyQueueError } from '../errors.js';

export default class PeekCommand extends JobqCommand {
  static override summary = 'Show the next tasks without leasing them.';
  static override description =
    'An empty queue is an error (exit 1), as in ai4s-jobq. At most 32 tasks on Azure, 1000 on local/.';
  static override flags = {
    number: Flags.integer({ char: 'n', summary: 'How many tasks to show.', default: 1, min: 1, max: countLimits.shown }),
    json: Flags.boolean({
      summary: 'The messages as one JSON array, as ai4s-jobq prints them.',
      default: false,
      exclusive: ['json-lines'],
    }),
    'json-lines': Flags.boolean({ summary: 'One JSON object per task, one a line (jobq\'s form).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PeekCommand);
    const peeked = await this.withQueue(flags, async (queue) => {
      const found = await queue.peek(flags.number);
      if (found.length === 0) throw new EmptyQueueError(`the queue ${queue.name} has no visible tasks`);
      return found;
    });
    if (flags.json) this.log(peekJson(peeked));
    else for (const line of flags['json-lines'] ? peekJsonLines(peeked) : peekText(peeked)) this.log(line);
  }
}
