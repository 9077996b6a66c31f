/**
 * Resume and dedup (SPEC §10): task ids are deterministic, so a push run
 * again after part of the work is done enqueues only what is missing. A
 * push of 1,000 tasks, a worker run of 600 of them (through the API, which
 * can stop after N tasks, on the same store), then the same push
 * with --skip-done --skip-queued; and the same options through `pushTasks`.
 * On local/ and on PostgreSQL; --skip-done alone on Azurite (an Azure queue
 * cannot be read whole, so --skip-queued is refused there).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pushTasks } from '../../src/api/push.js';
import { runWorker } from '../../src/api/run.js';
import { shellTaskKwargs } from '../../src/push.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';

const db = await testDatabase();
after(() => db.drop());

const lines = Array.from({ length: 1000 }, (_, i) => `echo task-${i}`);
const input = lines.join('\n') + '\n';

/** The suite on the backend of `prefix` (`local`, `pg`), with `extraEnv` to reach it. */
function pushSkipSuite(label: string, prefix: string, extraEnv: () => NodeJS.ProcessEnv, skip?: string): void {
  describe(`push --skip-done --skip-queued (CLI and API, ${label})`, { skip }, () => {
    const home = tempHome();
    after(() => home.cleanup());
    const env = { ...home.env, ...extraEnv() };
    const spec = (name: string): string => `${prefix}/${name}`;

    /** The queue in this test's store, opened in-process. */
    const open = (name: string) => JobQueue.open(spec(name), { env: { ...process.env, ...env } });

    /** A command as its input line was written: a command pushed from stdin keeps the line's newline, as the reference's does. */
    const withoutNewline = (command: string): string => command.replace(/\n$/, '');

    /** The commands of the tasks waiting in the queue. */
    async function queuedCommands(name: string): Promise<string[]> {
      const peek = await runCli([spec(name), 'peek', '-n', '1000', '--json-lines'], { env });
      return peek.stdout
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => withoutNewline((JSON.parse(line) as { kwargs: { cmd: string } }).kwargs.cmd))
        .sort();
    }

    /** Runs 600 of the queue's tasks; returns the commands that ran. */
    async function run600(name: string): Promise<Set<string>> {
      const queue = await open(name);
      try {
        const result = await runWorker(queue, { numWorkers: 4, maxTasks: 600 });
        assert.equal(result.stats.succeeded, 600);
        const done = await queue.fleet.attempts({ limit: 10_000 });
        return new Set(done.map((a) => withoutNewline(a.command)));
      } finally {
        await queue.close();
      }
    }

    it('after 600 of 1,000 ran, the same push with both flags enqueues nothing more; after a loss, exactly the missing ones', async () => {
      const first = await runCli([spec('resume'), 'push'], { env, input });
      assert.equal(first.code, 0, first.stderr);
      const ran = await run600('resume');
      assert.equal(ran.size, 600);
      assert.equal((await runCli([spec('resume'), 'size'], { env })).stdout.trim(), '400');

      const again = await runCli([spec('resume'), 'push', '--skip-done', '--skip-queued'], { env, input });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /enqueued 0 task\(s\) to resume \(skipped 600 done, 400 queued\)/);
      const waiting = await queuedCommands('resume');
      assert.equal(waiting.length, 400);
      assert.deepEqual(waiting, lines.filter((line) => !ran.has(line)).sort(), 'the queue holds exactly the tasks that did not run');

      // The queue is lost (cleared): --skip-done alone enqueues exactly the 400 that never ran.
      assert.equal((await runCli([spec('resume'), 'clear', '--yes'], { env })).code, 0);
      const resumed = await runCli([spec('resume'), 'push', '--skip-done'], { env, input });
      assert.match(resumed.stderr, /enqueued 400 task\(s\) to resume \(skipped 600 done\)/);
      assert.deepEqual(await queuedCommands('resume'), waiting);
    });

    it('--skip-queued skips a line repeated within one push too', async () => {
      const push = await runCli([spec('dedup'), 'push', '--skip-queued'], { env, input: 'echo a\necho b\necho a\n' });
      assert.match(push.stderr, /enqueued 2 task\(s\) to dedup \(skipped 1 queued\)/);
      assert.deepEqual(await queuedCommands('dedup'), ['echo a', 'echo b']);
    });

    it('pushTasks takes the same options and says how many it skipped for each reason', async () => {
      const queue = await open('api');
      try {
        const kwargs = lines.map((line) => shellTaskKwargs(line));
        const first = await pushTasks(queue, kwargs.slice(0, 700));
        assert.equal(first.pushed, 700);
        const worked = await runWorker(queue, { numWorkers: 4, maxTasks: 600 });
        assert.equal(worked.stats.succeeded, 600);
        const summary = await pushTasks(queue, kwargs, { skipDone: true, skipQueued: true });
        assert.deepEqual(
          { pushed: summary.pushed, skipped: summary.skipped, done: summary.skippedDone, queued: summary.skippedQueued },
          { pushed: 300, skipped: 700, done: 600, queued: 100 },
        );
        assert.equal(await queue.size(), 400);
        assert.equal(new Set([...(await queue.queuedTaskIds())]).size, 400);
      } finally {
        await queue.close();
      }
    });

    it('a history-less run (JOBQ_HISTORY=0) leaves --skip-done nothing to skip', async () => {
      const queue = await open('nohistory');
      try {
        await pushTasks(queue, [shellTaskKwargs(`echo ${path.sep}`)]);
        await runWorker(queue, { history: false });
        const summary = await pushTasks(queue, [shellTaskKwargs(`echo ${path.sep}`)], { skipDone: true });
        assert.equal(summary.pushed, 1);
      } finally {
        await queue.close();
      }
    });
  });
}

pushSkipSuite('local/', 'local', () => ({}));
pushSkipSuite('PostgreSQL', 'pg', () => ({ JOBQ_DATABASE_URL: db.url }), db.skip);

describe('push --skip-done on Azurite (CLI): the succeeded attempts of the history are skipped', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('after a worker ran 6 tasks, the same 6 and 3 new ones enqueue only the new ones', async () => {
    const azurite = await startAzurite();
    try {
      const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };
      const ran = lines.slice(0, 6).join('\n') + '\n';
      assert.equal((await runCli(['x/skipdone', 'push'], { env, input: ran })).code, 0);
      const worker = await runCli(['x/skipdone', 'worker', '-n', '2'], { env });
      assert.match(worker.stderr, /6 succeeded, 0 failed/);
      const again = await runCli(['x/skipdone', 'push', '--skip-done'], { env, input: lines.slice(0, 9).join('\n') + '\n' });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /enqueued 3 task\(s\) to skipdone \(skipped 6 done\)/);
    } finally {
      await azurite.stop();
    }
  });
});
