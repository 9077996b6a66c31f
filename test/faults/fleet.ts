/**
 * A small fleet for the PostgreSQL fault tests: tasks that record their runs
 * (recorded-runs.ts), pushed by several `jobq push` processes at once, and
 * worker processes of the real CLI (JSON logs) kept at a count until the
 * queue is drained, while the test plays a fault. Then every run is
 * accounted for: tasks that never completed, and duplicates each explained
 * by a worker's log (duplicates.ts), or not.
 */
import { randomBytes } from 'node:crypto';
import { JobQueue } from '../../src/queue/job-queue.js';
import { runCli, startCli, type CliProcess, type CliResult } from '../helpers/cli.js';
import { accountDuplicates, type DuplicateReport } from '../helpers/duplicates.js';
import { pidsMatching } from '../helpers/processes.js';
import { recordedTasks } from '../helpers/recorded-runs.js';
import { waitFor } from '../helpers/wait.js';

export interface FleetOptions {
  /** The environment of every CLI process (JOBQ_HOME, JOBQ_DATABASE_URL). */
  readonly env: NodeJS.ProcessEnv;
  /** A folder for the task script and the results. */
  readonly dir: string;
  readonly tasks: number;
  /** How long task `n` runs, in seconds. */
  readonly seconds: (n: number) => number;
  /** `jobq push` processes that share the tasks, all at once (default 1). */
  readonly pushers?: number;
  readonly workers: number;
  readonly slots: number;
  readonly visibility: string;
  readonly deadlineMs: number;
  /** Plays the fault while the fleet runs, once every task is pushed; given the workers alive at each moment. */
  readonly fault?: (fleet: { readonly alive: () => FleetWorker[]; readonly remaining: () => number }) => Promise<void>;
}

export interface FleetWorker {
  readonly id: string;
  readonly cli: CliProcess;
  killed: boolean;
  exit: CliResult | undefined;
}

export interface FleetSummary {
  readonly completed: number;
  /** Task numbers that never completed. */
  readonly lost: number[];
  /** Task numbers that completed more than once. */
  readonly repeated: number[];
  readonly duplicates: DuplicateReport;
  readonly leftInQueue: number;
  readonly deadLettered: number;
  readonly workers: readonly FleetWorker[];
}

export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const spec = `pg/fleet-${randomBytes(3).toString('hex')}`;
  const recorded = recordedTasks(options.dir);
  const lines = Array.from({ length: options.tasks }, (_, n) => recorded.command(n, options.seconds(n)));
  const pushers = options.pushers ?? 1;
  const env = { ...options.env, JOBQ_PREEMPTION_TIMEOUT: '2', JOBQ_KILL_TIMEOUT: '20' };
  const pushes = Array.from({ length: pushers }, (_, p) =>
    runCli([spec, 'push', '--num-workers', '4'], { env, input: lines.filter((_, n) => n % pushers === p).join('\n') + '\n' }),
  );
  const queue = await JobQueue.open(spec, { env });
  const workers: FleetWorker[] = [];
  const alive = (): FleetWorker[] => workers.filter((worker) => worker.exit === undefined);
  const startWorker = (): void => {
    const id = String(workers.length);
    const args = [spec, 'worker', '-n', String(options.slots), '--visibility-timeout', options.visibility, '--log-format', 'json'];
    const worker: FleetWorker = { id, cli: startCli(args, { env: { ...env, JOBQ_TEST_WORKER: id } }), killed: false, exit: undefined };
    void worker.cli.exited.then((exit) => (worker.exit = exit));
    workers.push(worker);
  };
  let pushing = true;
  const pushed = Promise.all(pushes).then((results) => {
    pushing = false;
    for (const result of results) if (result.code !== 0) throw new Error(`push failed: ${result.stderr}`);
  });
  // Awaited below; a failure must not count as unhandled meanwhile.
  pushed.catch(() => undefined);
  let remaining = options.tasks;
  let fault: Promise<void> | undefined;
  try {
    const deadline = Date.now() + options.deadlineMs;
    while (pushing || remaining > 0 || alive().length > 0) {
      if (Date.now() > deadline) throw new Error(`not drained after ${options.deadlineMs} ms: ${remaining} left`);
      // Workers exit when they find the queue empty: keep them at their count while tasks come or wait.
      if (pushing || remaining > 0) for (let n = alive().length; n < options.workers; n += 1) startWorker();
      if (!pushing) fault ??= options.fault?.({ alive, remaining: () => remaining });
      await waitFor(() => alive().length < options.workers, { timeoutMs: 250, intervalMs: 50 }).catch(() => undefined);
      remaining = await queue.size().catch(() => remaining);
    }
    await pushed;
    await fault;
  } finally {
    for (const worker of alive()) worker.cli.signal('SIGKILL');
    await Promise.all(workers.map((worker) => worker.cli.exited));
    await waitFor(() => pidsMatching(recorded.script).length === 0, { timeoutMs: 10_000 }).catch(() => undefined);
  }
  const runs = recorded.runs();
  const counts = new Map<number, number>();
  for (const run of runs) counts.set(run.number, (counts.get(run.number) ?? 0) + 1);
  const summary: FleetSummary = {
    completed: counts.size,
    lost: Array.from({ length: options.tasks }, (_, n) => n).filter((n) => !counts.has(n)),
    repeated: [...counts].filter(([, count]) => count > 1).map(([n]) => n),
    duplicates: accountDuplicates(
      runs,
      workers.map((worker) => ({ id: worker.id, killed: worker.killed, slots: options.slots, log: worker.cli.stderr })),
    ),
    leftInQueue: await queue.size(),
    deadLettered: await queue.deadLetterCount(),
    workers,
  };
  await queue.close();
  return summary;
}
