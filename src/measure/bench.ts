/**
 * `jobq bench` (the library behind the command): pushes no-op tasks onto an
 * empty queue and runs them through an in-process Worker at each concurrency,
 * for shell tasks (`true`) and function tasks (a no-op module), measuring:
 *
 * - enqueue rate: tasks / time to prepare and push them (as `jobq push` does);
 * - tasks/s: tasks / time from the worker's start to the last settle (the
 *   processor's start-up, such as a thread pool's, is not counted: one task
 *   per slot goes straight through it before the clock starts);
 * - lease-to-settle latency, p50 and p99 (see latency.ts);
 * - peak RSS of this process while the worker runs (sampled every 50 ms;
 *   shell tasks' own processes are not included).
 *
 * The recommendation for each kind is the concurrency with the most tasks/s.
 * The bench refuses a queue (or its NAME-failed) that holds anything, so it
 * never clears someone's tasks; it clears both when it ends normally or with
 * an error (an interrupted run leaves what it pushed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import type { Processor } from '../processors/processor.js';
import { createShellProcessor } from '../processors/shell/shell.js';
import { pushKwargs, pushTargetOf, shellTaskKwargs } from '../push.js';
import { JobQueue } from '../queue.js';
import { createTask, type Kwargs } from '../task/task.js';
import { Worker } from '../worker/worker.js';
import { LatencyRecorder, timedBackend } from './latency.js';
import { resolveBenchOptions, type BenchKind, type BenchOptions, type ResolvedBenchOptions } from './options.js';
import { percentile } from './stats.js';

export interface BenchRun {
  readonly kind: BenchKind;
  readonly concurrency: number;
  readonly tasks: number;
  readonly enqueuePerSecond: number;
  readonly tasksPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly peakRssBytes: number;
}

export interface BenchReport {
  /** The backend's description, such as `local:/tmp/jobq-bench-x/jobq.db`. */
  readonly backend: string;
  readonly queue: string;
  readonly machine: { readonly cpus: number; readonly platform: string; readonly loadAverage: readonly number[] };
  readonly runs: readonly BenchRun[];
  /** By kind, the concurrency with the most tasks/s measured (the lower one on a tie). */
  readonly recommended: Partial<Record<BenchKind, number>>;
}

const noopTask = fileURLToPath(new URL('./noop-task.js', import.meta.url));
const rssSampleMs = 50;

/** Runs the bench on `queue`, which must be empty, and leaves it empty. */
export async function runBench(queue: JobQueue, options: BenchOptions = {}): Promise<BenchReport> {
  const resolved = resolveBenchOptions(options);
  await assertEmpty(queue);
  const runs: BenchRun[] = [];
  const total = resolved.kinds.reduce((sum, kind) => sum + resolved.tasks[kind] * resolved.concurrencies.length, 0);
  try {
    for (const kind of resolved.kinds) {
      for (const concurrency of resolved.concurrencies) {
        const before = runs.reduce((sum, run) => sum + run.tasks, 0);
        runs.push(await measure(queue, kind, concurrency, resolved, (settled) => resolved.onProgress(before + settled, total)));
      }
    }
  } finally {
    await Promise.allSettled([queue.store.clear(), queue.deadLetters.clear()]);
  }
  return {
    backend: queue.backend.description,
    queue: queue.name,
    machine: { cpus: os.cpus().length, platform: os.platform(), loadAverage: os.loadavg() },
    runs,
    recommended: recommend(runs),
  };
}

/** For each kind, the concurrency of its run with the most tasks/s. */
function recommend(runs: readonly BenchRun[]): Partial<Record<BenchKind, number>> {
  const best = new Map<BenchKind, BenchRun>();
  for (const run of runs) {
    const current = best.get(run.kind);
    if (current === undefined || run.tasksPerSecond > current.tasksPerSecond) best.set(run.kind, run);
  }
  return Object.fromEntries([...best].map(([kind, run]) => [kind, run.concurrency]));
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
  const [tasks, failed] = await Promise.all([queue.store.size(), queue.deadLetters.size()]);
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

/** One run: push the tasks, run them through a worker with `concurrency` slots, check that all succeeded. */
async function measure(
  queue: JobQueue,
  kind: BenchKind,
  concurrency: number,
  options: ResolvedBenchOptions,
  onSettle: (settled: number) => void,
): Promise<BenchRun> {
  const count = options.tasks[kind];
  const recorder = new LatencyRecorder(onSettle);
  const timed = new JobQueue(timedBackend(queue.backend, queue.name, recorder), queue.name);
  const enqueueStart = performance.now();
  await pushKwargs(pushTargetOf(timed), Array.from({ length: count }, () => kwargsFor(kind)));
  const enqueueMs = performance.now() - enqueueStart;

  const processor = await createProcessorFor(kind, concurrency);
  await warmUp(processor, kind, concurrency, queue.name);
  const worker = new Worker(timed, processor, {
    numWorkers: concurrency,
    controlIntervalMs: 0,
    scheduledEvents: false,
  });
  const rss = sampleRss();
  const start = performance.now();
  const result = await worker.run().finally(async () => {
    rss.stop();
    await processor.close();
  });
  if (result.stats.succeeded !== count) {
    throw new Error(
      `bench: ${result.stats.succeeded} of ${count} ${kind} tasks at concurrency ${concurrency} succeeded ` +
        `(${JSON.stringify(result.stats)}); the figures would mean nothing`,
    );
  }
  return {
    kind,
    concurrency,
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
