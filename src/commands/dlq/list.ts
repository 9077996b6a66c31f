import { Flags } from '@oclif/core';
import { JobqCommand } from '../../cli/base-command.js';
import { countLimits } from '../../options/limits.js';
import { localTime } from '../../log/text-lines.js';
import { deadLetterCommand } from '../../queue/dead-letters.js';

export default class DlqListCommand extends JobqCommand {
  static override summary = 'Show tasks in the dead-letter queue NAME-failed, with their errors.';
  static override flags = {
    number: Flags.integer({ char: 'n', summary: 'How many records to show.', default: 10, min: 1, max: countLimits.shown }),
    json: Flags.boolean({ summary: 'One JSON record a line.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DlqListCommand);
    const records = await this.withQueue(flags, (queue) => queue.listDeadLetters(flags.number));
    for (const record of records) {
      if (flags.json) {
        this.log(JSON.stringify(record));
        continue;
      }
      const failedAt = Date.parse(record.failed_at);
      const when = Number.isNaN(failedAt) ? 'at an unknown time' : localTime(new Date(failedAt));
      this.log(`${record.task_id ?? '(invalid task)'}  failed ${when} on ${record.host || 'an unknown host'}: ${record.error.split('\n')[0]}`);
      this.log(`    $ ${deadLetterCommand(record)}`);
      for (const line of record.output.slice(-5)) this.log(`    | ${line}`);
    }
    if (records.length === 0 && !flags.json) this.logToStderr('the dead-letter queue is empty');
  }
}
