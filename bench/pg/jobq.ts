/**
 * jobq's side of the PostgreSQL bench, through its programmatic API, in a
 * process of its own:
 *
 *   node dist/bench/pg/jobq.js enqueue SPEC N
 *       pushTasks of N no-op kwargs ({"i": n}) with its defaults (100 a call,
 *       10 calls at once); prints {"ms": …} for pushTasks alone
 *   node dist/bench/pg/jobq.js idle SPEC SLOTS
 *       a worker that waits on an empty queue for ever (whenIdle: poll) and
 *       runs latency-task.js, which appends now − kwargs.t (ms) to kwargs.file,
 *       until its stdin closes
 *
 * The connection comes from JOBQ_DATABASE_URL, as for the CLI.
 */
import { fileURLToPath } from 'node:url';
import { JobQueue, pushTasks, runWorker } from '../../src/index.js';
import { stdinClosed } from './runner.js';

const [mode, spec, count] = process.argv.slice(2);
if (!spec || !count) throw new Error('usage: jobq.js enqueue|idle SPEC N');
const queue = await JobQueue.open(spec);
try {
  if (mode === 'enqueue') {
    const total = Number(count);
    const started = performance.now();
    await pushTasks(
      queue,
      Array.from({ length: total }, (_, i) => ({ i })),
    );
    console.log(JSON.stringify({ ms: performance.now() - started }));
  } else if (mode === 'idle') {
    const controller = new AbortController();
    void stdinClosed().then(() => controller.abort());
    const proc = fileURLToPath(new URL('./latency-task.js', import.meta.url));
    const running = runWorker(queue, { proc, numWorkers: Number(count), whenIdle: 'poll', signal: controller.signal });
    console.log('ready');
    await running;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  await queue.close();
}
