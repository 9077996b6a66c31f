import { Flags } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { progressBar } from '../cli/progress.js';
import { readStdinLines } from '../cli/stdin.js';
import { kwargsFromLines, parseEnvPairs, prepareTasks, pushBodies, shellTaskKwargs } from '../push.js';
import { PushFilter } from '../push-filter.js';

export default class PushCommand extends JobqCommand {
  static override summary = 'Push tasks: shell commands with -c, or one task per stdin line.';
  static override description =
    'Without -c, each non-empty stdin line is a task: a line starting with { is a JSON object of kwargs, ' +
    'any other line a shell command. The whole input is checked before anything is enqueued.';
  static override examples = [
    '<%= config.bin %> local/demo push -c "echo hello" -c "sleep 1 && echo done"',
    'seq 100 | sed "s/^/python train.py --seed /" | <%= config.bin %> local/demo push --num-retries 2',
  ];
  static override flags = {
    cmd: Flags.string({ char: 'c', summary: 'A shell command to run (repeatable).', multiple: true }),
    env: Flags.string({ char: 'e', summary: 'KEY=VAL added to every task\'s environment (repeatable).', multiple: true }),
    'num-retries': Flags.integer({ summary: 'Retries after a failure before dead-lettering.', default: 0, min: 0 }),
    'num-workers': Flags.integer({ summary: 'Batches enqueued concurrently.', default: 10, min: 1 }),
    'skip-done': Flags.boolean({
      summary: "Skip tasks whose id already succeeded (in the queue's history): re-running a push enqueues only what is missing.",
      default: false,
    }),
    'skip-queued': Flags.boolean({ summary: 'Skip tasks whose id is already in the queue (local/ queues).', default: false }),
    wait: Flags.boolean({
      summary: 'Wait for the results and print each as a JSON line when its task completes (local/ queues).',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(PushCommand);
    this.makeLogger(flags);
    const env = parseEnvPairs(flags.env ?? []);
    const fromStdin = flags.cmd === undefined;
    const numbered = fromStdin
      ? kwargsFromLines(await readStdinLines('give -c CMD or pipe tasks into stdin, one a line'), env)
      : (flags.cmd ?? []).map((cmd, index) => ({ kwargs: shellTaskKwargs(cmd, env), line: index + 1 }));
    await this.withQueue(flags, async (queue) => {
      if (flags.wait) queue.assertKeepsResults();
      const prepared = prepareTasks(
        queue,
        numbered.map((entry) => entry.kwargs),
        { numRetries: flags['num-retries'], replyRequested: flags.wait },
        (index) => (fromStdin ? `line ${numbered[index]?.line}` : `-c number ${index + 1}`),
      );
      const filter = await PushFilter.create(queue, { skipDone: flags['skip-done'], skipQueued: flags['skip-queued'] });
      const kept = prepared.tasks.map((task) => filter?.keep(task.id) ?? true);
      const tasks = prepared.tasks.filter((_, index) => kept[index]);
      const bodies = prepared.bodies.filter((_, index) => kept[index]);
      const progress = progressBar(bodies.length, 'enqueued');
      try {
        await pushBodies(queue, bodies, { concurrency: flags['num-workers'], onProgress: (n) => progress.update(n) });
      } finally {
        progress.stop();
      }
      this.logToStderr(`enqueued ${bodies.length} task(s) to ${queue.name}${filter ? ` (${filter.describe()})` : ''}`);
      if (!flags.wait) return;
      let failed = 0;
      await queue.waitForResults([...new Set(tasks.map((task) => task.id))], {
        onResult: (result) => {
          if (!result.ok) failed += 1;
          this.log(JSON.stringify(result));
        },
      });
      if (failed > 0) process.exitCode = 1;
    });
  }
}
