/**
 * The floor for function tasks on local/ that does the same work as jobq's
 * worker and nothing else: on one main thread, jobq's own lease and delete
 * statements on the database `jobq push` wrote (64 leased at a time, the next
 * lease when 32 are left; deletes share commits as jobq's do: up to 2 ms or
 * 64 of them, or with the next lease), and each task handed to one of THREADS
 * threads that import the task module and call it with the kwargs: one
 * message each way. No task
 * decoding beyond the kwargs, no heartbeats, history, logs or settlement
 * objects: what is left of jobq's per-task cost when its own code is taken out.
 * With `history`, it also inserts each task's attempt row with jobq's own
 * statement, gathered for 100 ms and committed with the deletes, as jobq's
 * history is: the floor of a worker that keeps the history.
 *
 *   JOBQ_HOME=… node dist/bench/baselines/bare-worker.js QUEUE THREADS [history]
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { hotPathSql } from '../../src/backends/sqlite.js';
import { attemptInsertSql } from '../../src/backends/sqlite-fleet.js';
import { noopTask } from '../lib/jobq.js';

interface Leased {
  id: number;
  body: string;
  token: string;
}

/** An attempt row's values, in the order of `attemptInsertSql`. */
type AttemptValues = Array<string | number | null>;

if (!isMainThread) {
  const task = ((await import(String(workerData))) as { default: (kwargs: unknown) => unknown }).default;
  const port = parentPort;
  port?.on('message', (kwargsJson: string) => {
    // As jobq's threads do: a function that returns nothing is reported by a number alone.
    void Promise.resolve(task(JSON.parse(kwargsJson))).then((result) => port.postMessage(result === undefined ? 0 : { ok: true, result }));
  });
} else {
  const [queue, threadCount, keep] = process.argv.slice(2);
  const home = process.env['JOBQ_HOME'];
  if (!queue || !threadCount || !home) throw new Error('usage: JOBQ_HOME=… bare-worker.js QUEUE THREADS [history]');
  const db = new Database(path.join(home, 'jobq.db'));
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  const leaseRead = db.prepare<[string, number, number], Leased>(hotPathSql.leaseRead);
  const leaseMark = db.prepare(hotPathSql.leaseMark);
  const complete = db.prepare(hotPathSql.complete);
  const insertAttempt = db.prepare<AttemptValues>(attemptInsertSql);
  /** Attempts gathered for 100 ms, then written with the next commit. */
  const attempts: AttemptValues[] = [];
  let attemptsDue = false;
  const deleteAll = db.transaction((rows: Leased[]) => {
    rows.forEach((row) => complete.run(row.id, row.token));
    if (!attemptsDue) return;
    attempts.splice(0).forEach((values) => insertAttempt.run(...values));
    attemptsDue = false;
  });
  const worker = `bare-${process.pid}`;
  const record = (id: string, kwargs: string, startedAt: number, durationMs: number): void => {
    if (attempts.length === 0) setTimeout(() => (attemptsDue = true), 100);
    // As jobq's row of a function task: its module as the kind, its kwargs as what ran.
    attempts.push([queue, id, noopTask, kwargs, worker, 'host', process.pid, startedAt, Date.now(), durationMs, 'succeeded', null, 0, null, null, null]);
  };

  // As jobq's write batch: deletes wait up to 2 ms (or 64 of them) to share a commit, and a lease commits them with it.
  const deletes: Leased[] = [];
  let held: NodeJS.Timeout | undefined;
  /** The deletes waiting for a commit, which is no longer scheduled. */
  const takeDeletes = (): Leased[] => {
    clearTimeout(held);
    held = undefined;
    return deletes.splice(0);
  };
  const commitDeletes = (): void => deleteAll.immediate(takeDeletes());
  const settle = (row: Leased): void => {
    deletes.push(row);
    if (deletes.length === 64) setImmediate(commitDeletes);
    else held ??= setTimeout(commitDeletes, 2);
  };
  const buffered: Leased[] = [];
  const leaseMore = (): number => {
    const now = Date.now();
    const rows = db.transaction(() => {
      deleteAll(takeDeletes());
      const read = leaseRead.all(queue, now, 64);
      const token = randomUUID();
      if (read.length > 0) leaseMark.run(token, now + 60_000, queue, now, 64);
      for (const row of read) row.token = `${token}.${row.id}`;
      return read;
    }).immediate();
    buffered.push(...rows);
    return rows.length;
  };
  const next = (): Leased | undefined => {
    if (buffered.length < 32) leaseMore();
    return buffered.shift();
  };

  const url = pathToFileURL(noopTask).href;
  const threads = Array.from({ length: Number(threadCount) }, () => new Worker(new URL(import.meta.url), { workerData: url }));
  const run = (thread: Worker, kwargsJson: string): Promise<unknown> =>
    new Promise((resolve) => {
      thread.once('message', resolve);
      thread.postMessage(kwargsJson);
    });
  await Promise.all(
    threads.map(async (thread) => {
      for (let row = next(); row !== undefined; row = next()) {
        const task = JSON.parse(row.body) as { kwargs: string; id: string };
        const startedAt = Date.now();
        const started = performance.now();
        await run(thread, task.kwargs);
        if (keep === 'history') record(task.id, task.kwargs, startedAt, performance.now() - started);
        settle(row);
      }
    }),
  );
  attemptsDue = true;
  commitDeletes();
  await Promise.all(threads.map((thread) => thread.terminate()));
  db.close();
}

