/**
 * pg-boss (a devDependency) as the PostgreSQL bench runs it, in a process of
 * its own (no maintenance or cron loops, which the bench does not need):
 *
 *   node dist/bench/pg/pg-boss.js enqueue URL N
 *       inserts N jobs with insert(), 100 a call, 10 calls at once (jobq's
 *       pushTasks defaults); prints {"ms": …} for the enqueue alone
 *   node dist/bench/pg/pg-boss.js work URL N LOOPS BATCH [TIME_LIMIT_S]
 *       LOOPS work() loops at the shortest polling interval (0.5 s), each
 *       fetching BATCH jobs and running them one after the other (so LOOPS
 *       run at once), until N completed or the time limit (60 s); prints
 *       {"completed": …}
 *   node dist/bench/pg/pg-boss.js idle URL LOOPS FILE
 *       idle work() loops whose handler appends now − data.t (ms) to FILE,
 *       until its stdin closes
 */
import PgBoss from 'pg-boss';
import { appendFileSync } from 'node:fs';
import { inBatches, now, stdinClosed } from './runner.js';

const [mode, url, ...rest] = process.argv.slice(2);
if (!url) throw new Error('usage: pg-boss.js enqueue|work|idle URL ...');
const queue = 'bench';
const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false, max: 10 });
boss.on('error', (err: Error) => console.error(`pg-boss: ${err.message}`));
await boss.start();
await boss.createQueue(queue);

async function work(loops: number, batchSize: number, handle: (data: { t?: number }) => void): Promise<void> {
  for (let loop = 0; loop < loops; loop += 1) {
    await boss.work<{ t?: number }>(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) handle(job.data);
    });
  }
}

if (mode === 'enqueue') {
  const total = Number(rest[0]);
  const started = performance.now();
  await inBatches(total, (from, to) => boss.insert(Array.from({ length: to - from }, (_, i) => ({ name: queue, data: { i: from + i } }))));
  console.log(JSON.stringify({ ms: performance.now() - started }));
  await boss.stop({ graceful: false, wait: true });
} else if (mode === 'work') {
  const [total, loops, batchSize, limitSeconds = 60] = rest.map(Number) as [number, number, number, number?];
  let completed = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const limit = setTimeout(done, limitSeconds * 1000);
  // A handler's jobs are completed together when it returns: count them then.
  await work(loops, batchSize, () => {
    completed += 1;
    if (completed >= total) done();
  });
  await finished;
  clearTimeout(limit);
  await boss.stop({ graceful: false, wait: true });
  console.log(JSON.stringify({ completed }));
} else if (mode === 'idle') {
  const [loops, file] = [Number(rest[0]), rest[1]];
  if (!file) throw new Error('usage: pg-boss.js idle URL LOOPS FILE');
  await work(loops, 1, (data) => appendFileSync(file, `${now() - (data.t ?? 0)}\n`));
  console.log('ready');
  await stdinClosed();
  await boss.stop({ graceful: false, wait: true });
} else {
  throw new Error(`unknown mode ${mode}`);
}
