import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { fleetStatus } from '../fleet/status.js';
import { formatStatus } from '../fleet/status-format.js';
import { MAX_TIMER_MS, parseDuration } from '../options/duration.js';
import { sleep } from '../timers/sleep.js';

export default class StatusCommand extends JobqCommand {
  static override summary = 'One screen on a queue and its fleet: depth, workers and what they run, pace, ETA.';
  static override description =
    'A worker that has not rewritten its row for three of its intervals (JOBQ_WORKER_ROW_INTERVAL, 5s) is shown as gone.';
  static override examples = ['<%= config.bin %> local/demo status', '<%= config.bin %> local/demo status --watch'];
  static override flags = {
    watch: Flags.boolean({ char: 'w', summary: 'Redraw every --interval until Ctrl-C.', default: false }),
    interval: Flags.custom<number>({ parse: async (text) => parseDuration(text, '--interval', MAX_TIMER_MS) })({
      summary: 'How often --watch redraws (<integer>[smhdw]).',
      default: 2000,
      defaultHelp: async () => '2s',
    }),
    json: Flags.boolean({ summary: 'The status as one JSON object.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(StatusCommand);
    this.makeLogger(flags);
    await this.withQueue(flags, async (queue) => {
      const terminal = process.stdout.isTTY && !flags.json;
      for (let first = true; first || flags.watch; first = false) {
        if (!first) await sleep(Math.max(1000, flags.interval));
        const status = await fleetStatus(queue);
        const text = flags.json ? JSON.stringify(status) : formatStatus(status);
        // On a terminal each redraw replaces the last; elsewhere snapshots follow each other.
        if (terminal && flags.watch) process.stdout.write('\x1b[H\x1b[2J');
        else if (!first && !flags.json) this.log('');
        this.log(text);
      }
    });
  }
}
