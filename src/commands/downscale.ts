import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { parseDuration } from '../options/duration.js';
import { countLimits } from '../options/limits.js';

/** The longest --ttl: a year (it is a date in the message, not a timer). */
const MAX_TTL_MS = 365 * 86_400_000;
import { controlMessage } from '../signals/control-channel.js';

export default class DownscaleCommand extends JobqCommand {
  static override summary = 'Ask N worker processes to stop gracefully (or drain) through the NAME-control queue.';
  static override description =
    'Each worker takes at most one control message: with --drain it finishes its running tasks and exits (as SIGUSR1); ' +
    'otherwise it stops them, releases them to the queue and exits (as SIGUSR2). Messages nobody takes expire after --ttl.';
  static override flags = {
    nodes: Flags.integer({ summary: 'How many workers to stop.', default: 1, min: 1, max: countLimits.downscaleNodes }),
    drain: Flags.boolean({ summary: 'Let running tasks finish instead of stopping them.', default: false }),
    ttl: Flags.custom<number>({ parse: async (text) => parseDuration(text, '--ttl', MAX_TTL_MS) })({
      summary: 'Drop control messages not taken within this time (<integer>[smhdw], at most 365d).',
      default: 3_600_000,
      defaultHelp: async () => '1h',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DownscaleCommand);
    await this.withQueue(flags, async (queue) => {
      const body = controlMessage(flags.drain ? 'drain' : 'stop', flags.ttl);
      await queue.sendControl(Array.from({ length: flags.nodes }, () => body));
      this.logToStderr(`asked ${flags.nodes} worker(s) of ${queue.name} to ${flags.drain ? 'drain' : 'stop'}`);
    });
  }
}
