/**
 * What the page is sent, built field by field from the queue layer's records
 * (src/dashboard/api-types.ts): only the fields listed here leave the
 * server, and every text that may hold a secret (what a task runs, its env,
 * its errors and output) goes through the redaction rule of
 * src/fleet/redact.ts on the way.
 */
import type { AttemptRecord } from '../backends/fleet.js';
import type { FleetCharts } from '../fleet/series.js';
import type { FleetStatus, WorkerStatus } from '../fleet/status.js';
import { redactCommand, redactEnv, redactText } from '../fleet/redact.js';
import type { DeadLetterEntry } from '../queue/job-queue.js';
import { parseTask } from '../task/task.js';
import type { AttemptView, DeadLetterView, Overview, WorkerView } from './api-types.js';

export function workerView(w: WorkerStatus): WorkerView {
  return {
    workerId: w.workerId,
    state: w.state,
    host: w.host,
    pid: w.pid,
    environment: w.environment,
    phase: w.phase,
    slots: w.slots,
    running: w.running.map((task) => ({ taskId: task.taskId, command: redactCommand(task.command), since: task.since })),
    lastSeen: w.lastSeen,
    startedAt: w.startedAt,
    cpuPercent: w.cpuPercent,
    rssBytes: w.rssBytes,
    succeeded: w.succeeded,
    failed: w.failed,
    version: w.version,
  };
}

export function overviewView(
  status: FleetStatus,
  charts: FleetCharts,
  settings: { readOnly: boolean; refreshMs: number; windowMs: number; notes: readonly string[] },
): Overview {
  const phases: Record<string, number> = {};
  for (const w of status.workers) {
    const key = w.state === 'alive' ? w.phase : w.state;
    phases[key] = (phases[key] ?? 0) + 1;
  }
  return {
    queue: status.queue,
    where: status.where,
    at: status.at,
    readOnly: settings.readOnly,
    refreshMs: settings.refreshMs,
    depth: { ...status.depth },
    workers: status.workers.map(workerView),
    rates: status.rates.map((r) => ({ minutes: r.minutes, perMinute: r.perMinute })),
    lastDay: status.lastDay && { ...status.lastDay },
    etaMs: status.etaMs,
    runtimes: charts.runtimePercentiles,
    stops: { released: charts.releasedBy, phases },
    charts: { depth: charts.depth, throughput: charts.throughput, workers: charts.workers, runtimes: charts.runtimes },
    windowMs: settings.windowMs,
    notes: [...status.notes, ...settings.notes].map(redactText),
  };
}

export function attemptView(a: AttemptRecord): AttemptView {
  return {
    taskId: a.taskId,
    kind: a.kind,
    command: redactCommand(a.command),
    workerId: a.workerId,
    host: a.host,
    startedAt: a.startedAt,
    endedAt: a.endedAt,
    durationMs: a.durationMs,
    outcome: a.outcome,
    stop: a.stop,
    exitCode: a.exitCode,
    signal: a.signal,
    error: a.error === null ? null : redactText(a.error),
    output: a.output === null ? null : redactText(a.output),
  };
}

/** A dead letter: its task decoded (what it ran and its env, redacted), or a message that is no task shown as redacted text. */
export function deadLetterView({ messageId, record }: DeadLetterEntry): DeadLetterView {
  let command: string;
  let env: Record<string, string> = {};
  try {
    const task = parseTask(record.task);
    const { cmd, env: taskEnv } = task.kwargs;
    command = typeof cmd === 'string' ? redactText(cmd) : redactCommand(task.kwargsJson);
    if (typeof taskEnv === 'object' && taskEnv !== null && !Array.isArray(taskEnv)) env = redactEnv(taskEnv as Record<string, unknown>);
  } catch {
    command = redactText(record.task);
  }
  return {
    messageId,
    taskId: record.task_id,
    command,
    env,
    error: redactText(record.error),
    output: record.output.map(redactText),
    exitCode: record.exit_code,
    failedAt: record.failed_at,
    host: record.host,
    deliveries: record.deliveries,
  };
}
