/**
 * What the task history costs a worker on local/ (one attempt row per task,
 * written in the settle's transaction): bench/lib/history-cost.ts, each run
 * on a fresh JOBQ_HOME.
 *
 *   node dist/bench/history.js [--rounds 5] [--shell 2000] [--functions 50000]
 */
import { measureHistoryCost } from './lib/history-cost.js';

await measureHistoryCost({
  script: 'history',
  backend: 'local/',
  spec: 'local/bench',
  defaults: { rounds: 5, shell: 2000, functions: 50_000 },
  storeNote: 'each run on a fresh JOBQ_HOME',
});
