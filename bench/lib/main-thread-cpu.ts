/**
 * Preloaded into a measured node process (`--import`, see `mainThreadCpu`):
 * at exit it writes the CPU time its main thread used, in seconds, to the
 * file named by JOBQ_BENCH_MAIN_CPU. A worker's main thread does the queue's
 * work and hands every task to a thread: when it is busy, it and not the
 * cores bounds the rate, and this tells the two apart.
 */
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { cpuSecondsFromStat } from '../../test/helpers/proc-cpu.js';

const file = process.env['JOBQ_BENCH_MAIN_CPU'];
if (isMainThread && file) {
  process.on('exit', () => writeFileSync(file, String(cpuSecondsFromStat(`/proc/self/task/${process.pid}/stat`))));
}
