import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { countLimits } from '../options/limits.js';

export default class PeekCommand extends JobqCommand {
  static override summary = 'Show the next tasks without leasing them.';
  static override flags = {
    number: Flags.integer({ char: 'n', summary: 'How many tasks to show.', default: 10, min: 1, max: countLimits.shown }),
    json: Flags.boolean({ summary: 'One JSON object per task, one a line.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PeekCommand);
    this.makeLogger(flags);
    const peeked = await this.withQueue(flags, (queue) => queue.peek(flags.number));
    for (const { message, task, invalid } of peeked) {
      if (flags.json) {
        this.log(
          JSON.stringify(
            task
              ? { id: task.id, num_retries: task.numRetries, reply_requested: task.replyRequested, kwargs: task.kwargs, deliveries: message.deliveries }
              : { invalid: invalid.message, body: message.body, deliveries: message.deliveries },
          ),
        );
      } else {
        this.log(task ? `${task.id}  retries=${task.numRetries}  ${task.kwargsJson}` : `(invalid: ${invalid.message})  ${message.body}`);
      }
    }
    if (peeked.length === 0 && !flags.json) this.logToStderr('the queue has no visible tasks');
  }
}
