/**
 * Stop latency side by side: the time from a SIGTERM sent to the tool until
 * the running task's own SIGTERM handler runs (a bash trap that writes
 * $EPOCHREALTIME), p50 and p99 over N trials (default 50), for jobq's worker,
 * GNU parallel (which passes its first SIGTERM on to running jobs), and the
 * floor: the SIGTERM sent straight to the task's shell. (xargs does not pass
 * a SIGTERM on: its tasks never hear it.) A trial whose handler has not run
 * HANDLER_DEADLINE_MS after the SIGTERM counts as missed, and is left out
 * of the percentiles. Linux only.
 *
 *   node dist/bench/stop-latency.js [--trials 50]
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { percentile } from '../src/measure/stats.js';
import { waitFor } from '../test/helpers/wait.js';
import { commandLine, integerOptions, jobq, Scratch } from './lib/jobq.js';
import { ensureCommand, start, timed, type Started } from './lib/processes.js';
import { figure, interleaved, ratios, Report, Samples, target, type Figure } from './lib/results.js';

const { trials } = integerOptions({ trials: 50 });
const report = new Report('stop-latency', `stop latency, SIGTERM to the tool until the task's handler runs, ${trials} trials`);
const scratch = new Scratch();
const ready = scratch.path('ready');
const handled = scratch.path('handled');
/** The task writes its shell's and its sleep's pids when ready, so that a missed trial can end them. */
const task = `trap 'echo $EPOCHREALTIME > ${handled}; kill $!; exit 0' TERM; sleep 100 & echo "$$ $!" > ${ready}; wait`;
const HANDLER_DEADLINE_MS = 2000;
const taskFile = scratch.file('task.txt', [task]);
const logFile = scratch.path('output.log');
const hasParallel = ensureCommand('parallel', 'parallel');
const samples = new Samples();

const worker = jobq('local/bench', 'worker');
const parallel = ['parallel', ['-j1']] as const;
const direct = ['bash', ['-c', task]] as const;
/** The task stays in the queue: each trial's stop releases it for the next. */
const jobqEnv = { ...scratch.freshHome(), JOBQ_PREEMPTION_TIMEOUT: '600' };
await timed(...jobq('local/bench', 'push'), { env: jobqEnv, stdin: taskFile, logFile });

/**
 * One trial: start the tool, wait until the task runs, SIGTERM `target`, and
 * record the time until the handler wrote its clock (or a miss); then
 * `finish` ends the tool.
 */
async function trial(key: string, started: Started, target: () => number | undefined, finish: () => void = () => {}): Promise<void> {
  try {
    await waitFor(() => existsSync(ready) && readFileSync(ready, 'utf8').endsWith('\n'), {
      intervalMs: 1,
      message: () => `timed out waiting for ${key}: the task to start`,
    });
    const pid = target();
    if (pid === undefined) throw new Error(`${key}: no process to signal`);
    const sent = performance.timeOrigin + performance.now();
    process.kill(pid, 'SIGTERM');
    const ran = () => existsSync(handled) && readFileSync(handled, 'utf8').endsWith('\n');
    await waitFor(ran, { timeoutMs: HANDLER_DEADLINE_MS, intervalMs: 1 }).catch(() => {});
    if (ran()) samples.add(key, Number(readFileSync(handled, 'utf8')) * 1000 - sent);
    else {
      samples.add(`${key}-missed`, 1);
      endTask();
    }
    finish();
    await started.done;
  } finally {
    started.child.kill('SIGKILL'); // only if something above failed; a no-op after the exit
    rmSync(ready, { force: true });
    rmSync(handled, { force: true });
  }
}

/** SIGKILLs the task's shell and sleep, whose pids it wrote, after a missed trial. */
function endTask(): void {
  for (const pid of readFileSync(ready, 'utf8').trim().split(' ').map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

try {
  await interleaved(trials, [
    () => {
      // A second SIGTERM skips the brace: the worker exits as soon as the task is released.
      const started = start(...worker, { env: jobqEnv, logFile }, [143]);
      return trial('jobq', started, () => started.child.pid, () => started.child.kill('SIGTERM'));
    },
    async () => {
      if (!hasParallel) return;
      const started = start(...parallel, { env: { ...process.env, SHELL: '/bin/bash' }, stdin: taskFile, logFile }, 'any');
      await trial('parallel', started, () => started.child.pid);
    },
    () => {
      const started = start(...direct, { logFile }, 'any');
      return trial('direct', started, () => started.child.pid);
    },
  ]);
} finally {
  scratch.cleanup();
}

const tools = [
  { key: 'jobq', label: 'jobq worker', command: commandLine(...worker) },
  ...(hasParallel ? [{ key: 'parallel', label: 'GNU parallel -j1', command: `SHELL=/bin/bash ${commandLine(...parallel)} < task.txt` }] : []),
  { key: 'direct', label: "straight to the task's shell", command: "bash -c 'TASK'; kill -TERM <its pid>" },
];
const figures: Figure[] = tools.flatMap(({ key, label, command }) => [
  figure({ key: `${key}-p50`, label: `${label}, p50`, command, unit: 'ms', samples: samples.get(key) }),
  figure({ key: `${key}-p99`, label: `${label}, p99`, command, unit: 'ms', samples: samples.get(key) }, (all) => percentile(all, 99)),
]);
const others = tools.slice(1).map((tool) => tool.key);
const missed = (key: string) => samples.get(`${key}-missed`).length;
report.finish({
  figures,
  ratios: [...ratios(figures, 'jobq-p50', others.map((key) => `${key}-p50`)), ...ratios(figures, 'jobq-p99', others.map((key) => `${key}-p99`))],
  targets: [
    target('jobq worker stop latency p99, ms', figures[1]?.value ?? Number.NaN, '<=', 50),
    target("jobq trials whose task's handler never ran", missed('jobq'), '<=', 0),
  ],
  notes: [
    `${trials} trials each, interleaved; the task: ${task.replaceAll(scratch.dir, '$DIR')}`,
    `trials whose handler had not run ${HANDLER_DEADLINE_MS} ms after the SIGTERM: ` +
      tools.map(({ key, label }) => `${label} ${missed(key)}`).join(', '),
  ],
});
