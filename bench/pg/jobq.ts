/**
 * jobq's side of the PostgreSQL bench, through its programmatic API, in a
 * process of its own:
 *
 *   node dist/bench/pg/jobq.js enqueue SPEC N
 *       pushTasks of N no-op kwargs ({"i": n}) with its defaults (one
 *       all-or-nothing push); prints {"ms": …} for pushTasks alone
 *   node dist/bench/pg/jobq.js idle SPEC SLOTS
 *       a worker that waits on an empty queue for ever (whenIdle: poll) and
 *       runs latency-task.js, which appends now − kwargs.t (ms) to kwargs.file,
 *       until its stdin closes
 *   node dist/bench/pg/jobq.js listen SPEC 1
 *       no worker: the store itself, leasing one message at a time and
 *       waiting on `waitForPush` when the queue is empty, as the worker's
 *       idle wait will; appends now − kwargs.t for each, until stdin closes
 *
 * The connection comes from JOBQ_DATABASE_URL, as for the CLI.
 */
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { QueueStore } from '../../src/backends/backend.js';
import { openBackend } from '../../src/backends/open.js';
import { JobQueue, parseSpec, parseTask, pushTasks, runWorker } from '../../src/index.js';
import { now, stdinClosed } from './runner.js';

const [mode, spec, count] = process.argv.slice(2);
if (!spec || !count) throw new Error('usage: jobq.js enqueue|idle|listen SPEC N');

/** Leases one message at a time, waiting for pushes when there is none, until `signal` aborts. */
async function listen(store: QueueStore, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const [lease] = await store.lease(1, 60_000);
    if (!lease) {
      await store.waitForPush?.(5_000, signal);
      continue;
    }
    const { t, file } = parseTask(lease.body).kwargs as { t: number; file: string };
    appendFileSync(file, `${now() - t}\n`);
    await store.complete(lease);
  }
}

if (mode === 'listen') {
  const target = parseSpec(spec);
  const backend = await openBackend(target);
  const controller = new AbortController();
  void stdinClosed().then(() => controller.abort());
  const listening = listen(backend.queue(target.name), controller.signal);
  console.log('ready');
  await listening.finally(() => backend.close());
  process.exit(0);
}
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
