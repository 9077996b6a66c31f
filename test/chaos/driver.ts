/**
 * The chaos driver: N tasks on one queue, each recording its run
 * (recorded-runs.ts) after running for a random while (sometimes long);
 * several worker processes of the real CLI; and, at random moments of a
 * seeded schedule, SIGKILL, SIGTERM, SIGINT, SIGUSR1 or SIGUSR2 to a random
 * worker, with new workers started so that `workers` of them keep taking
 * tasks, until the queue is empty. Then it checks what happened to every task
 * and returns a summary (the tests and bench/chaos.ts assert on it).
 *
 * SIGTERM starts a brace of JOBQ_PREEMPTION_TIMEOUT (2 s here) after which the
 * worker resumes: a braced worker does not count as taking tasks until its log
 * says it resumed. Every other signal ends the worker.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { JobQueue } from '../../src/queue/job-queue.js';
import { runCli, startCli, type CliProcess, type CliResult } from '../helpers/cli.js';
import { pidsMatching, pidsWithEnv } from '../helpers/processes.js';
import { seededRandom, type Random } from '../helpers/random.js';
import { waitFor } from '../helpers/wait.js';
import { accountDuplicates, type DuplicateReport } from '../helpers/duplicates.js';
import { recordedTasks, type RecordedTasks } from '../helpers/recorded-runs.js';

export interface ChaosOptions {
  /** The queue spec, such as local/chaos-1a2b or devstoreaccount1/chaos-1a2b. */
  readonly spec: string;
  /** The environment of every CLI process (JOBQ_HOME, a connection string). */
  readonly env: NodeJS.ProcessEnv;
  /** A folder for the task script and the results file. */
  readonly dir: string;
  readonly tasks: number;
  readonly seed: number;
  /** Mean time between faults; each wait is drawn from [0.5, 1.5] times it. */
  readonly faultIntervalMs: number;
  /** The run fails if the queue is not drained by then. */
  readonly deadlineMs: number;
  /** Worker processes kept taking tasks (default 3). */
  readonly workers?: number;
  /** Task slots per worker (default 2). */
  readonly slots?: number;
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void;
  /** Keep each worker's log as worker-ID.log in this folder (default: not kept). */
  readonly logDir?: string;
}

const signals = ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGUSR2'] as const;
type ChaosSignal = (typeof signals)[number];

export interface ChaosSummary {
  spec: string;
  tasks: number;
  seed: number;
  faultIntervalMs: number;
  workers: number;
  slots: number;
  durationMs: number;
  faults: Record<ChaosSignal, number> & { total: number };
  /** Which workers were SIGKILLed (their JOBQ_TEST_WORKER and pid), and when (ms from the start of the run). */
  sigkills: Array<{ worker: string; pid: number; atMs: number }>;
  workersStarted: number;
  /** Tasks that completed at least once. */
  completed: number;
  /** Task numbers that never completed. */
  lost: number[];
  duplicates: DuplicateReport;
  /** Messages left in the queue and in NAME-failed. */
  leftInQueue: number;
  deadLettered: number;
  /** Task processes still alive after the run. */
  orphans: number[];
  /** Workers that ended in a way their signals do not explain (a failure exit, a usage error). */
  unexpectedExits: string[];
}

interface ChaosWorker {
  /** Its JOBQ_TEST_WORKER: pids are reused in a long run. */
  readonly id: string;
  readonly cli: CliProcess;
  readonly pid: number;
  readonly sent: ChaosSignal[];
  /** Ends by itself (every signal but a first SIGTERM says so). */
  ending: boolean;
  exit: CliResult | undefined;
}

/** Mostly short tasks; one in ten runs for 0.5-2 s. */
function taskLines(random: Random, tasks: RecordedTasks, count: number): string {
  const lines: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const seconds = random.next() < 0.1 ? random.int(500, 2000) / 1000 : random.int(0, 100) / 1000;
    lines.push(tasks.command(n, seconds));
  }
  return lines.join('\n') + '\n';
}

/** The exit a worker may have after these signals; undefined when it is fine. */
function unexpectedExit(worker: ChaosWorker): string | undefined {
  const exit = worker.exit;
  if (exit === undefined) return `worker ${worker.pid} never exited`;
  if (exit.signal !== null && worker.sent.includes(exit.signal as ChaosSignal)) {
    // SIGKILL; or a signal before the worker listened for signals, or after it
    // had finished: the default action ends the process, and no task is held then.
    const log = worker.cli.stderr;
    if (exit.signal === 'SIGKILL' || !log.includes('"worker_start"') || log.includes('"worker_stop"')) return undefined;
  }
  // SIGTERM during any stop (or a second one) ends the worker with 143.
  const allowed = new Set<number>([0]);
  if (worker.sent.includes('SIGINT')) allowed.add(130);
  if (worker.sent.includes('SIGTERM')) allowed.add(143);
  if (exit.code !== null && allowed.has(exit.code)) return undefined;
  const tail = exit.stderr.trim().split('\n').slice(-3).join(' | ');
  return `worker ${worker.id} (pid ${worker.pid}, signals ${worker.sent.join(',') || 'none'}) exited with ${exit.code ?? exit.signal}: ${tail}`;
}

/**
 * Task processes (by JOBQ_QUEUE_NAME or the task script) and workers' helper
 * processes (by JOBQ_HOME) still alive, once they have had a few seconds to
 * go: a killed worker's guard is stopping its tasks.
 */
async function leftoverProcesses(queueName: string, script: string, env: NodeJS.ProcessEnv): Promise<number[]> {
  const home = env['JOBQ_HOME'];
  const find = (): number[] => [
    ...new Set([
      ...pidsWithEnv('JOBQ_QUEUE_NAME', queueName),
      ...pidsMatching(script),
      ...(home === undefined ? [] : pidsWithEnv('JOBQ_HOME', home)),
    ]),
  ];
  await waitFor(() => find().length === 0, { timeoutMs: 10_000 }).catch(() => {});
  return find();
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const random = seededRandom(options.seed);
  const workerCount = options.workers ?? 3;
  const slots = options.slots ?? 2;
  const progress = options.progress ?? (() => {});
  const recorded = recordedTasks(options.dir);
  const env: NodeJS.ProcessEnv = { ...options.env, JOBQ_PREEMPTION_TIMEOUT: '2', JOBQ_KILL_TIMEOUT: '20' };

  const push = await runCli([options.spec, 'push', '--num-workers', '4'], { env, input: taskLines(random, recorded, options.tasks) });
  if (push.code !== 0) throw new Error(`push failed: ${push.stderr}`);
  const queue = await JobQueue.open(options.spec, { env, connectionString: env['JOBQ_CONNECTION_STRING'] });

  const started = Date.now();
  const workers: ChaosWorker[] = [];
  const faults = { total: 0, SIGKILL: 0, SIGTERM: 0, SIGINT: 0, SIGUSR1: 0, SIGUSR2: 0 };
  const sigkills: ChaosSummary['sigkills'] = [];
  const startWorker = (): void => {
    const id = String(workers.length);
    const args = [options.spec, 'worker', '-n', String(slots), '--visibility-timeout', '4s', '--log-format', 'json'];
    const cli = startCli(args, { env: { ...env, JOBQ_TEST_WORKER: id } });
    const worker: ChaosWorker = { id, cli, pid: cli.child.pid ?? -1, sent: [], ending: false, exit: undefined };
    void cli.exited.then((exit) => (worker.exit = exit));
    workers.push(worker);
  };
  const alive = (): ChaosWorker[] => workers.filter((worker) => worker.exit === undefined);
  /** Alive and taking tasks: not ending, and not braced (a SIGTERM it has not resumed from). */
  const taking = (): ChaosWorker[] =>
    alive().filter((worker) => !worker.ending && !(worker.sent.includes('SIGTERM') && !/resuming work/.test(worker.cli.stderr)));

  try {
    let remaining = await queue.size();
    let nextFault = started + options.faultIntervalMs;
    let lastSizeCheck = 0;
    while (remaining > 0 || alive().length > 0) {
      const now = Date.now();
      if (now - started > options.deadlineMs) throw new Error(`not drained after ${options.deadlineMs} ms: ${remaining} left`);
      if (now - lastSizeCheck >= 250 || alive().length === 0) {
        remaining = await queue.size();
        lastSizeCheck = Date.now();
      }
      if (remaining > 0) for (let n = taking().length; n < workerCount; n += 1) startWorker();
      const targets = alive();
      if (remaining > 0 && now >= nextFault && targets.length > 0) {
        const worker = random.pick(targets);
        const signal = random.pick(signals);
        worker.ending ||= signal !== 'SIGTERM' || worker.sent.includes('SIGTERM');
        worker.sent.push(signal);
        worker.cli.signal(signal);
        faults.total += 1;
        faults[signal] += 1;
        if (signal === 'SIGKILL') sigkills.push({ worker: worker.id, pid: worker.pid, atMs: now - started });
        nextFault = now + Math.round(options.faultIntervalMs * (0.5 + random.next()));
        if (faults.total % 20 === 0) progress(`${faults.total} faults, ${remaining} tasks left, ${workers.length} workers started`);
      }
      await delay(50);
    }
  } finally {
    for (const worker of alive()) worker.cli.signal('SIGKILL');
    await Promise.all(workers.map((worker) => worker.cli.exited));
  }
  const durationMs = Date.now() - started;
  const logDir = options.logDir;
  if (logDir !== undefined) for (const worker of workers) writeFileSync(path.join(logDir, `worker-${worker.id}.log`), worker.cli.stderr);

  const runs = recorded.runs();
  const completed = new Set(runs.map((run) => run.number));
  const summary: ChaosSummary = {
    spec: options.spec,
    tasks: options.tasks,
    seed: options.seed,
    faultIntervalMs: options.faultIntervalMs,
    workers: workerCount,
    slots,
    durationMs,
    faults,
    sigkills,
    workersStarted: workers.length,
    completed: completed.size,
    lost: Array.from({ length: options.tasks }, (_, n) => n).filter((n) => !completed.has(n)),
    duplicates: accountDuplicates(
      runs,
      workers.map((worker) => ({ id: worker.id, killed: worker.sent.includes('SIGKILL'), slots, log: worker.cli.stderr })),
    ),
    leftInQueue: await queue.size(),
    deadLettered: await queue.deadLetterCount(),
    orphans: await leftoverProcesses(queue.name, recorded.script, env),
    unexpectedExits: workers.map(unexpectedExit).filter((line): line is string => line !== undefined),
  };
  await queue.close();
  return summary;
}
