import { Flags } from '@oclif/core';
import { failedOutcomes } from '../backends/fleet.js';
import { JobqCommand } from '../cli/base-command.js';
import { formatHistory } from '../fleet/history-format.js';
import { parseDuration } from '../options/duration.js';

export default class HistoryCommand extends JobqCommand {
  static override summary = 'Show finished attempts: one line each, oldest first (GNU parallel --joblog with --format joblog).';
  static override description =
    "Every attempt a worker finished is kept in the queue's store (7 days or 1,000,000 attempts by default). " +
    '--format joblog writes GNU parallel\'s --joblog columns: Seq, Host, Starttime, JobRuntime, Send, Receive, Exitval, Signal, Command.';
  static override examples = [
    '<%= config.bin %> local/demo history --failed --since 2h',
    '<%= config.bin %> local/demo history --format joblog > joblog.tsv',
  ];
  static override flags = {
    failed: Flags.boolean({ summary: 'Only failed runs (retried or dead-lettered).', default: false }),
    since: Flags.custom<number>({ parse: async (text) => parseDuration(text, '--since') })({
      summary: 'Only attempts that ended within this long (<integer>[smhdw], e.g. 2h).',
    }),
    task: Flags.string({ summary: 'Only the attempts of this task id.' }),
    worker: Flags.string({ summary: 'Only the attempts of this worker id.' }),
    number: Flags.integer({
      char: 'n',
      summary: 'Show the newest N attempts (default 50 as text; every attempt kept with --format joblog or --json).',
      min: 1,
    }),
    format: Flags.option({ options: ['text', 'joblog', 'json'] as const, default: 'text' as const, summary: 'Output format.' })(),
    json: Flags.boolean({ summary: 'One JSON object per attempt (the same as --format json).', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(HistoryCommand);
    this.makeLogger(flags);
    const format = flags.json ? 'json' : flags.format;
    const limit = flags.number ?? (format === 'text' ? 50 : Number.MAX_SAFE_INTEGER);
    const attempts = await this.withQueue(flags, (queue) =>
      queue.fleet.attempts({
        limit,
        ...(flags.since !== undefined && { since: Date.now() - flags.since }),
        ...(flags.task !== undefined && { taskId: flags.task }),
        ...(flags.worker !== undefined && { workerId: flags.worker }),
        ...(flags.failed && { outcomes: failedOutcomes }),
      }),
    );
    for (const line of formatHistory(attempts, format)) this.log(line);
    if (attempts.length === 0 && format === 'text') this.logToStderr('no attempt matches');
  }
}
