/**
 * The alternative for function tasks: the same no-op module run N times
 * straight through a piscina pool of T threads (what jobq's function tasks
 * run on), with no queue.
 *
 *   node dist/bench/baselines/piscina-noop.js N THREADS
 */
import { Piscina } from 'piscina';
import { pathToFileURL } from 'node:url';
import { noopTask } from '../lib/jobq.js';

const [tasks, threads] = process.argv.slice(2).map(Number);
if (!tasks || !threads) throw new Error('usage: piscina-noop.js TASKS THREADS');
const pool = new Piscina({ filename: pathToFileURL(noopTask).href, minThreads: threads, maxThreads: threads });
/** At most this many runs are queued at once, as a worker's slots would. */
const inFlight = threads * 4;
let next = 0;
const lane = async (): Promise<void> => {
  while (next < tasks) {
    next += 1;
    await pool.run({});
  }
};
await Promise.all(Array.from({ length: inFlight }, lane));
await pool.destroy();
