import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { loadTaskTypes } from '../processors/task-types/task-types.js';

export default class TaskTypesCommand extends JobqCommand {
  static override summary = 'List the task types that --proc can select.';
  static override description =
    'shell is built in; plugins add more (jobq plugins install|link PLUGIN). ' +
    '--proc also takes a function module path: ./tasks.js or ./tasks.js#export.';
  static override examples = ['<%= config.bin %> task-types', '<%= config.bin %> plugins link ./plugins/jobq-plugin-hash'];
  static override flags = {
    json: Flags.boolean({ summary: 'One JSON object per task type (name, description, plugin, kind), one a line.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TaskTypesCommand);
    const logger = this.makeLogger(flags);
    const { types, warnings } = await loadTaskTypes(this.config);
    for (const warning of warnings) this.warnTaskType(logger, warning);
    const width = Math.max(0, ...types.map((type) => type.name.length));
    for (const { name, description, plugin, kind } of types) {
      if (flags.json) this.log(JSON.stringify({ name, description, plugin, kind }));
      else this.log(`${name.padEnd(width)}  ${description}  (${plugin})`);
    }
  }
}
