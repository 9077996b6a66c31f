/**
 * What the task history costs a worker on PostgreSQL (one attempt row per
 * task, in the statement of the settles of its turn):
 * bench/lib/history-cost.ts, on one database of the bench's own.
 *
 *   node dist/bench/pg-history.js [--rounds 5] [--shell 2000] [--functions 20000]
 */
import { measureHistoryCost } from './lib/history-cost.js';
import { benchDatabase } from './lib/postgres.js';

const db = await benchDatabase();
await measureHistoryCost({
  script: 'pg-history',
  backend: 'PostgreSQL',
  spec: 'pg/bench',
  defaults: { rounds: 5, shell: 2000, functions: 20_000 },
  env: { JOBQ_DATABASE_URL: `${db.url}?sslmode=disable` },
  storeNote: 'one database, the history growing from run to run (history-on runs add their attempts)',
  cleanup: () => db.drop(),
});
