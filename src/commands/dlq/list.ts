import { Flags } from '@oclif/core';
import { JobqCommand } from '../../cli/base-command.js';
import { countLimits } from '../../options/limits.js';

export default class DlqListCommand extends JobqCommand {
  static override summary = 'Show tasks in the dead-letter queue NAME-failed, with their errors.';
  static override flags = {
    number: Flags.integer({ char: 'n', summary: 'How many records to show.', default: 10, min: 1, max: countLimits.shown }),
    json: Flags.boolean({ summary: 'One JSON record a line.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DlqListCommand);
    this.makeLogger(flags);
    const records = await this.withQueue(flags, (queue) => queue.listDeadLetters(flags.number));
    for (const record of records) {
      if (flags.json) {
        this.log(JSON.stringify(record));
        continue;
      }
      this.log(`${record.task_id ?? '(invalid task)'}  failed ${record.failed_at} on ${record.host}: ${record.error.split('\n')[0]}`);
      for (const line of record.output.slice(-5)) this.log(`    | ${line}`);
    }
    if (records.length === 0 && !flags.json) this.logToStderr('the dead-letter queue is empty');
  }
}
