/**
 * Which duplicate runs of a task are explained (the chaos and fault tests).
 * A task may complete more than once only when one of its runs ended without
 * a settlement or was released after it had done its work:
 *
 * - sigkill: its worker was SIGKILLed while the task was in flight (still
 *   running, or among the latest tasks that had ended, up to
 *   `maxSettlingPerSlot` a slot: a slot takes its next task while the
 *   settlements of its last ones are being written);
 *   the message reappears when its lease expires. Also covers a kill in the
 *   middle of a release, and a run that its killed worker's log does not
 *   show at all: log lines are written at the end of the event-loop turn
 *   that logged them, so the lines of the turn a SIGKILL cut short are lost.
 * - leaseLost: the worker logged that the task `lost its lease`.
 * - unsettled: the worker could not settle it (`settle_failed`).
 * - stopRacedEnd: a stop (§6.1) reached the task as it was ending, after it
 *   had written its result; by SPEC §7 a task that got a stop's SIGTERM is
 *   released whatever its exit code, so it runs again. Only counted for the
 *   results that worker wrote beyond the runs it completed (`task_success`).
 *
 * Everything else is `unexplained`, which the test requires to be zero.
 */
import { maxSettlingPerSlot } from '../../src/worker/loop.js';

export interface WorkerLog {
  /** The worker's JOBQ_TEST_WORKER (see recorded-runs.ts). */
  readonly id: string;
  /** Whether the driver SIGKILLed it. */
  readonly killed: boolean;
  /** Its task slots: at most this many tasks were running, and maxSettlingPerSlot times as many settling, when it was killed. */
  readonly slots: number;
  /** Its stderr: JSON log lines (`--log-format json`). */
  readonly log: string;
}

/** One line of the results file: a task run that completed its work. */
export interface TaskRun {
  readonly taskId: string;
  /** The JOBQ_TEST_WORKER of the worker that ran it. */
  readonly worker: string;
}

export interface DuplicateReport {
  /** Completed runs beyond the first, over all tasks. */
  total: number;
  sigkill: number;
  leaseLost: number;
  unsettled: number;
  stopRacedEnd: number;
  unexplained: number;
  /** Task ids with unexplained duplicates. */
  unexplainedTasks: string[];
}

type Cause = 'sigkill' | 'leaseLost' | 'unsettled' | 'stopRacedEnd';
/** Per task on one worker: the runs that could explain a duplicate, and the runs it completed. */
type Suspects = Record<Cause | 'succeeded', number>;

interface LogEvent {
  event?: string;
  task_id?: string;
  /** On task_lock_lost: `running` when the loss was noticed, `ended` when the attempt ended unsettled. */
  stage?: string;
}

function parseLines(log: string): LogEvent[] {
  const events: LogEvent[] = [];
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      events.push(JSON.parse(line) as LogEvent);
    } catch {
      // the last line of a killed worker may be cut short
    }
  }
  return events;
}

/** All counts zero; a new object each time, since callers add to it. */
function noSuspects(): Suspects {
  return { sigkill: 0, leaseLost: 0, unsettled: 0, stopRacedEnd: 0, succeeded: 0 };
}

/** For one worker: how many runs of each task could explain a duplicate, by cause. */
function suspects(worker: WorkerLog): Map<string, Suspects> {
  const found = new Map<string, Suspects>();
  const add = (taskId: string, cause: Cause | 'succeeded'): void => {
    const entry = found.get(taskId) ?? noSuspects();
    entry[cause] += 1;
    found.set(taskId, entry);
  };
  /** Task ids by their last event, latest last: `task_start` (running) or another (settling, or settled). */
  const lastEvent = new Map<string, string>();
  for (const { event, task_id: taskId, stage } of parseLines(worker.log)) {
    if (taskId === undefined || event === undefined || event === 'task_output') continue;
    lastEvent.delete(taskId);
    lastEvent.set(taskId, event);
    if (event === 'task_lock_lost' && stage === 'ended') add(taskId, 'leaseLost');
    else if (event === 'settle_failed') add(taskId, 'unsettled');
    else if (event === 'task_canceled') add(taskId, 'stopRacedEnd');
    else if (event === 'task_success') add(taskId, 'succeeded');
  }
  if (worker.killed) {
    // In flight when it died: the tasks still running, and the latest tasks
    // that had ended, up to maxSettlingPerSlot a slot (their settle may not have finished).
    const running = [...lastEvent].filter(([, event]) => event === 'task_start').map(([taskId]) => taskId);
    const ended = [...lastEvent].filter(([, event]) => event !== 'task_start').map(([taskId]) => taskId);
    const settling = ended.slice(Math.max(0, ended.length - worker.slots * maxSettlingPerSlot));
    for (const taskId of [...running, ...settling]) add(taskId, 'sigkill');
  }
  return found;
}

/** The runs a killed worker made of a task its log does not mention: its last lines died with it. */
function unlogged(runs: number): Suspects {
  return { ...noSuspects(), sigkill: runs };
}

export function accountDuplicates(runs: readonly TaskRun[], workers: readonly WorkerLog[]): DuplicateReport {
  const report: DuplicateReport = {
    total: 0,
    sigkill: 0,
    leaseLost: 0,
    unsettled: 0,
    stopRacedEnd: 0,
    unexplained: 0,
    unexplainedTasks: [],
  };
  const runsByTask = new Map<string, TaskRun[]>();
  for (const run of runs) runsByTask.set(run.taskId, [...(runsByTask.get(run.taskId) ?? []), run]);
  const suspectsByWorker = new Map(workers.map((worker) => [worker.id, suspects(worker)]));
  for (const [taskId, taskRuns] of runsByTask) {
    let extra = taskRuns.length - 1;
    if (extra === 0) continue;
    report.total += extra;
    for (const worker of workers) {
      const wroteHere = taskRuns.filter((run) => run.worker === worker.id).length;
      const causes = suspectsByWorker.get(worker.id)?.get(taskId) ?? (worker.killed ? unlogged(wroteHere) : undefined);
      if (causes === undefined) continue;
      const explained: Array<[Cause, number]> = [
        ['sigkill', causes.sigkill],
        ['leaseLost', causes.leaseLost],
        ['unsettled', causes.unsettled],
        ['stopRacedEnd', Math.min(causes.stopRacedEnd, Math.max(0, wroteHere - causes.succeeded))],
      ];
      for (const [cause, count] of explained) {
        const used = Math.min(count, extra);
        report[cause] += used;
        extra -= used;
      }
    }
    if (extra > 0) {
      report.unexplained += extra;
      report.unexplainedTasks.push(taskId);
    }
  }
  return report;
}
