/**
 * `jobq bench` (the library behind the command): pushes no-op tasks onto an
 * empty queue and runs them through an in-process Worker at each concurrency,
 * for shell tasks (`true`) and function tasks (a no-op module), measuring:
 *
 * - enqueue rate: tasks / time to check and push them (as `jobq push` does);
 * - tasks/s: tasks / time from the worker's start to the last settle (the
 *   processor's start-up, such as a thread pool's, is not counted: one task
 *   per slot goes straight through it before the clock starts);
 * - lease-to-settle latency, p50 and p99 (see latency.ts);
 * - peak RSS of this process while the worker runs (sampled every 50 ms;
 *   shell tasks' own processes are not included).
 *
 * Each kind and concurrency is run `repeats` times, the rounds interleaved so
 * that a machine that gets busier part way affects every concurrency alike;
 * the spread of the repeats is the noise the recommendation allows for
 * (summary.ts). Each run's task count is sized from the rates measured so far
 * so that the bench takes about `seconds`.
 *
 * The bench refuses a queue (or its NAME-failed) that holds anything, so it
 * never clears someone's tasks, and empties both when it ends, however it
 * ends. An abort stops the run under way (it is not counted) and reports the
 * runs measured before it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { Processor } from '../processors/processor.js';
import { createShellProcessor } from '../processors/shell/shell.js';
import { pushKwargs, shellTaskKwargs } from '../push.js';
import { JobQueue } from '../queue/job-queue.js';
import { createTask, type Kwargs } from '../task/task.js';
import { Worker } from '../api/worker.js';
import { LatencyRecorder, timedBackend } from './latency.js';
import { resolveBenchOptions, type BenchKind, type BenchOptions, type ResolvedBenchOptions } from './options.js';
import { percentile } from './stats.js';
import { recommend, summarize, type BenchRun, type BenchSummary, type Recommendation } from './summary.js';

export type { BenchRun, BenchSummary, Recommendation } from './summary.js';

export interface BenchReport {
  /** The backend's description, such as `local:/tmp/jobq-bench-x/jobq.db`. */
  readonly backend: string;
  readonly queue: string;
  readonly machine: {
    readonly cpus: number;
    readonly platform: string;
    /** The 1-minute load average when the bench started and when it ended. */
    readonly loadAverage: { readonly start: number; readonly end: number };
  };
  /** Why the figures may mislead (a busy machine), one sentence each. */
  readonly warnings: readonly string[];
  /** Every run, in the order measured. */
  readonly runs: readonly BenchRun[];
  /** By kind and concurrency, over the repeated runs. */
  readonly summaries: readonly BenchSummary[];
  readonly recommended: Partial<Record<BenchKind, Recommendation>>;
  /** Stopped by its signal before every planned run was measured. */
  readonly interrupted: boolean;
}

const noopTask = fileURLToPath(new URL('./noop-task.js', import.meta.url));
const rssSampleMs = 50;
/** Of the time budget, the share given to running tasks (the rest goes to pushing, start-up and clearing). */
const measuredShare = 0.85;
const minTasksPerRun = 20;
const maxTasksPerRun = 200_000;

/** Runs the bench on `queue`, which must be empty, and leaves it empty. */
export async function runBench(queue: JobQueue, options: BenchOptions = {}): Promise<BenchReport> {
  const resolved = resolveBenchOptions(options);
  await assertEmpty(queue);
  const loadAtStart = os.loadavg()[0] ?? 0;
  const plan = resolved.kinds.flatMap((kind) => resolved.concurrencies.map((concurrency) => ({ kind, concurrency })));
  const planned = plan.length * resolved.repeats;
  const secondsPerRun = (resolved.seconds * measuredShare) / planned;
  const runs: BenchRun[] = [];
  let interrupted = false;
  try {
    for (let repeat = 1; repeat <= resolved.repeats && !interrupted; repeat += 1) {
      for (const { kind, concurrency } of plan) {
        const count = resolved.tasks[kind] ?? tasksFor(kind, concurrency, runs, resolved, secondsPerRun);
        const run = await measure(queue, { kind, concurrency, repeat, count }, resolved.signal);
        if (run === undefined) {
          interrupted = true;
          break;
        }
        runs.push(run);
        resolved.onRun(run, runs.length, planned);
      }
    }
  } finally {
    await Promise.allSettled([queue.clear(), queue.purgeDeadLetters()]);
  }
  const cpus = os.availableParallelism();
  const loadAtEnd = os.loadavg()[0] ?? 0;
  const summaries = summarize(runs);
  return {
    backend: queue.description,
    queue: queue.name,
    machine: { cpus, platform: os.platform(), loadAverage: { start: loadAtStart, end: loadAtEnd } },
    warnings: Math.max(loadAtStart, loadAtEnd) > cpus ? [busyWarning(Math.max(loadAtStart, loadAtEnd), cpus)] : [],
    runs,
    summaries,
    recommended: recommend(summaries),
    interrupted,
  };
}

function busyWarning(load: number, cpus: number): string {
  return (
    `the load average was ${load.toFixed(2)} on ${cpus} CPU(s): other work competed for the CPUs, ` +
    'so the rates are lower and noisier than this machine gives an idle jobq'
  );
}

/**
 * Tasks for a run of about `seconds`: from this kind's rate at this
 * concurrency if measured, else its best rate so far, else the first guess.
 */
function tasksFor(kind: BenchKind, concurrency: number, runs: readonly BenchRun[], options: ResolvedBenchOptions, seconds: number): number {
  const ofKind = runs.filter((run) => run.kind === kind);
  const same = ofKind.filter((run) => run.concurrency === concurrency);
  const rate =
    same.length > 0
      ? Math.min(...same.map((run) => run.tasksPerSecond))
      : ofKind.length > 0
        ? Math.max(...ofKind.map((run) => run.tasksPerSecond))
        : options.firstRates[kind];
  return Math.min(maxTasksPerRun, Math.max(minTasksPerRun, 2 * concurrency, Math.round(rate * seconds)));
}

/**
 * An empty `local/bench` queue in a new temporary JOBQ_HOME; `dispose` closes
 * it and removes the folder.
 */
export async function openThrowawayQueue(): Promise<{ queue: JobQueue; dispose: () => Promise<void> }> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'jobq-bench-'));
  const remove = () => rm(home, { recursive: true, force: true });
  let queue: JobQueue;
  try {
    queue = await JobQueue.open({ kind: 'local', name: 'bench', file: path.join(home, 'jobq.db') });
  } catch (err) {
    await remove();
    throw err;
  }
  return { queue, dispose: () => queue.close().finally(remove) };
}

async function assertEmpty(queue: JobQueue): Promise<void> {
  const [tasks, failed] = await Promise.all([queue.size(), queue.deadLetterCount()]);
  if (tasks + failed > 0) {
    throw new UsageError(
      `${queue.name} holds ${tasks} task(s) and ${failed} dead letter(s): jobq bench pushes and clears tasks, ` +
        'so it needs an empty queue (give another one, or none for a throw-away local queue)',
    );
  }
}

function kwargsFor(kind: BenchKind): Kwargs {
  return kind === 'shell' ? shellTaskKwargs('true') : {};
}

async function createProcessorFor(kind: BenchKind, concurrency: number): Promise<Processor> {
  if (kind === 'shell') return createShellProcessor();
  // Loaded only when asked for, as the worker does: the thread pool costs start-up time.
  const { createFunctionProcessor } = await import('../processors/function/function.js');
  return createFunctionProcessor({ module: noopTask, numWorkers: concurrency });
}

interface RunPlan {
  readonly kind: BenchKind;
  readonly concurrency: number;
  readonly repeat: number;
  readonly count: number;
}

/**
 * One run: push the tasks, run them through a worker with `concurrency`
 * slots, check that all succeeded. Undefined when `signal` stopped it (what
 * it pushed is left for the caller to clear).
 */
async function measure(queue: JobQueue, plan: RunPlan, signal: AbortSignal | undefined): Promise<BenchRun | undefined> {
  const { kind, concurrency, count } = plan;
  if (signal?.aborted) return undefined;
  const recorder = new LatencyRecorder();
  const timed = queue.withBackend((backend) => timedBackend(backend, queue.name, recorder));
  const enqueueStart = performance.now();
  try {
    await pushKwargs(timed, Array.from({ length: count }, () => kwargsFor(kind)), { ...(signal && { signal }) });
  } catch (err) {
    if (signal?.aborted) return undefined;
    throw err;
  }
  const enqueueMs = performance.now() - enqueueStart;

  const processor = await createProcessorFor(kind, concurrency);
  await warmUp(processor, kind, concurrency, queue.name);
  const worker = new Worker(timed, processor, {
    numWorkers: concurrency,
    controlIntervalMs: 0,
    preemptionNotices: { sources: 'off' },
    ...(signal && { signal }),
  });
  const rss = sampleRss();
  const start = performance.now();
  const result = await worker.run().finally(async () => {
    rss.stop();
    await processor.close();
  });
  if (signal?.aborted) return undefined;
  if (result.stats.succeeded !== count) {
    throw new Error(
      `bench: ${result.stats.succeeded} of ${count} ${kind} tasks at concurrency ${concurrency} succeeded ` +
        `(${JSON.stringify(result.stats)}); the figures would mean nothing`,
    );
  }
  return {
    kind,
    concurrency,
    repeat: plan.repeat,
    tasks: count,
    enqueuePerSecond: count / (enqueueMs / 1000),
    tasksPerSecond: count / ((recorder.lastSettleAt - start) / 1000),
    latencyMs: { p50: percentile(recorder.samples, 50), p99: percentile(recorder.samples, 99) },
    peakRssBytes: rss.peak,
  };
}

/**
 * One task per slot straight through the processor, before the clock starts:
 * a thread pool starts its threads lazily, which is start-up, not throughput.
 */
async function warmUp(processor: Processor, kind: BenchKind, concurrency: number, queueName: string): Promise<void> {
  const task = createTask(kwargsFor(kind));
  await Promise.all(Array.from({ length: concurrency }, () => processor.start({ task, queueName, log: () => {} }).done));
}

/** The peak RSS of this process from now until `stop()`. */
function sampleRss(): { readonly peak: number; stop(): void } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, rssSampleMs);
  return {
    get peak() {
      return peak;
    },
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
    },
  };
}
