import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { boundedInteger } from '../cli/integer-flag.js';
import { withInterrupts } from '../cli/interrupts.js';
import { pushProgress } from '../cli/progress.js';
import { inputLines } from '../cli/stdin.js';
import { commandItems, lineItems, parseEnvPairs } from '../push/input.js';
import { assertPushTarget, MAX_PUSH_CONCURRENCY, pushItems } from '../push.js';
import { PushFilter } from '../push/filter.js';

export default class PushCommand extends JobqCommand {
  static override summary = 'Push tasks: shell commands with -c, or one task per stdin line.';
  static override description =
    'Without -c, each non-empty stdin line is a task: a line starting with { is a JSON object of kwargs, ' +
    'any other line a shell command (with its line break, as the reference pushes it). Every task is written ' +
    'byte for byte as ai4s-jobq writes it, so it gets the same id. Nothing is enqueued if any line is bad ' +
    '(the error names it). On local/ a push is all or nothing; on Azure, a push that stops part way (a failure, ' +
    'Ctrl-C) says how many tasks were enqueued and which line to push again from.';
  static override examples = [
    '<%= config.bin %> local/demo push -c "echo hello" -c "sleep 1 && echo done"',
    'seq 100 | sed "s/^/python train.py --seed /" | <%= config.bin %> local/demo push --num-retries 2',
  ];
  static override flags = {
    command: Flags.string({ char: 'c', aliases: ['cmd'], summary: 'A shell command to run (repeatable).', multiple: true }),
    env: Flags.string({ char: 'e', summary: "KEY=VAL added to every task's environment (repeatable).", multiple: true }),
    'bg-dirsync-to': Flags.string({
      summary: 'Stored in each task as bg_dirsync_to, as the reference stores it (jobq does not sync folders).',
    }),
    'num-retries': Flags.integer({ summary: 'Retries after a failure before dead-lettering.', default: 0, min: 0 }),
    'num-workers': boundedInteger('--num-workers', 1, MAX_PUSH_CONCURRENCY)({
      summary: `Sends in flight at once on Azure (1 to ${MAX_PUSH_CONCURRENCY}).`,
      default: 10,
    }),
    'skip-done': Flags.boolean({
      summary: "Skip tasks whose id already succeeded (in the queue's history): re-running a push enqueues only what is missing.",
      default: false,
    }),
    'skip-queued': Flags.boolean({ summary: 'Skip tasks whose id is already in the queue (local/ and PostgreSQL queues).', default: false }),
    wait: Flags.boolean({
      summary: 'Wait for the results and print each as a JSON line when its task completes (local/ queues).',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PushCommand);
    const settings = { env: parseEnvPairs(flags.env ?? []), bgDirsyncTo: flags['bg-dirsync-to'] ?? null };
    assertPushTarget(this.queueTarget(flags).name);
    const logger = this.makeLogger(flags);
    await this.withQueue(
      flags,
      async (queue) => {
        if (flags.wait) queue.assertKeepsResults();
        const taskIds: string[] = [];
        const filter = await PushFilter.create(queue, { skipDone: flags['skip-done'], skipQueued: flags['skip-queued'] });
        const progress = pushProgress();
        const pushed = await withInterrupts(async (signal) => {
          const items = flags.command
            ? commandItems(flags.command, settings)
            : lineItems(inputLines('give -c CMD or pipe tasks into stdin, one a line', signal), settings);
          try {
            return await pushItems(queue, items, {
              numRetries: flags['num-retries'],
              replyRequested: flags.wait,
              concurrency: flags['num-workers'],
              signal,
              onProgress: (update) => progress.update(update),
              ...(flags.wait && { onTask: (task) => taskIds.push(task.id) }),
              ...(filter && { keep: (task) => filter.keep(task.id) }),
            });
          } finally {
            progress.stop();
          }
        });
        this.logToStderr(`enqueued ${pushed} task(s) to ${queue.name}${filter ? ` (${filter.describe()})` : ''}`);
        if (!flags.wait) return;
        let failed = 0;
        await withInterrupts((signal) =>
          queue.waitForResults([...new Set(taskIds)], {
            signal,
            onResult: (result) => {
              if (!result.ok) failed += 1;
              this.log(JSON.stringify(result));
            },
          }),
        );
        if (failed > 0 && process.exitCode === undefined) process.exitCode = 1;
      },
      { retryOutages: logger },
    );
  }
}
