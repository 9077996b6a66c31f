/**
 * graphile-worker (a devDependency) as the PostgreSQL bench runs it, in a
 * process of its own, with its logs silenced:
 *
 *   node dist/bench/pg/graphile-worker.js enqueue URL N
 *       adds N `noop` jobs with addJobs, 100 a call, 10 calls at once
 *       (jobq's pushTasks defaults); prints {"ms": …} for the enqueue alone
 *   node dist/bench/pg/graphile-worker.js work URL N CONCURRENCY [LOCAL_QUEUE] [TIME_LIMIT_S]
 *       runs a worker pool until N jobs succeeded or the time limit (60 s);
 *       LOCAL_QUEUE > 0 turns on its batch fetch (localQueue.size) and batched
 *       completions (completeJobBatchDelay 0); prints {"completed": …}
 *   node dist/bench/pg/graphile-worker.js idle URL CONCURRENCY FILE
 *       an idle worker pool whose `latency` task appends now − payload.t (ms) to FILE,
 *       until its stdin closes
 */
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { appendFileSync } from 'node:fs';
import { inBatches, now, stdinClosed } from './runner.js';

const [mode, url, ...rest] = process.argv.slice(2);
if (!url) throw new Error('usage: graphile-worker.js enqueue|work|idle URL ...');
const logger = new Logger(() => () => undefined);

if (mode === 'enqueue') {
  const total = Number(rest[0]);
  const utils = await makeWorkerUtils({ connectionString: url, logger });
  await utils.migrate();
  const started = performance.now();
  await inBatches(total, (from, to) => utils.addJobs(Array.from({ length: to - from }, (_, i) => ({ identifier: 'noop', payload: { i: from + i } }))));
  console.log(JSON.stringify({ ms: performance.now() - started }));
  await utils.release();
} else if (mode === 'work') {
  const [total, concurrency, localQueue = 0, limitSeconds = 60] = rest.map(Number) as [number, number, number?, number?];
  let completed = 0;
  const runner = await run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    logger,
    taskList: { noop: async () => undefined },
    ...(localQueue > 0 ? { preset: { worker: { localQueue: { size: localQueue }, completeJobBatchDelay: 0 } } } : {}),
  });
  await new Promise<void>((resolve) => {
    const limit = setTimeout(resolve, limitSeconds * 1000);
    runner.events.on('job:success', () => {
      completed += 1;
      if (completed >= total) {
        clearTimeout(limit);
        resolve();
      }
    });
  });
  await runner.stop();
  console.log(JSON.stringify({ completed }));
} else if (mode === 'idle') {
  const [concurrency, file] = [Number(rest[0]), rest[1]];
  if (!file) throw new Error('usage: graphile-worker.js idle URL CONCURRENCY FILE');
  const runner = await run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    logger,
    taskList: {
      latency: async (payload) => {
        appendFileSync(file, `${now() - (payload as { t: number }).t}\n`);
      },
    },
  });
  console.log('ready');
  await stdinClosed();
  await runner.stop();
} else {
  throw new Error(`unknown mode ${mode}`);
}
