/** `jobq status` as text: the queue, its pace and ETA, then one line per worker with the tasks it runs. */
import type { FleetStatus, WorkerStatus } from './status.js';
import { columns, formatBytes, formatCount, formatSpan } from './units.js';

/** The longest command shown under a worker. */
const commandWidth = 100;

function cut(text: string, max: number): string {
  const line = text.replaceAll(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function workerLines(workers: readonly WorkerStatus[], now: number): string[] {
  if (workers.length === 0) return ['  (no worker has reported)'];
  const header = ['WORKER', 'STATE', 'PHASE', 'HOST', 'PID', 'SLOTS', 'RUNNING', 'DONE', 'FAILED', 'CPU', 'RSS', 'SEEN', 'ENV', 'VERSION'];
  const rows = workers.map((w) => [
    w.workerId,
    w.state,
    w.phase,
    w.host,
    String(w.pid),
    String(w.slots),
    String(w.running.length),
    formatCount(w.succeeded),
    formatCount(w.failed),
    `${w.cpuPercent.toFixed(0)}%`,
    formatBytes(w.rssBytes),
    `${formatSpan(Math.max(0, now - w.lastSeen))} ago`,
    w.environment ?? '-',
    w.version,
  ]);
  const lines = columns([header, ...rows]).map((line) => `  ${line}`);
  const out = [lines[0] ?? ''];
  workers.forEach((w, i) => {
    out.push(lines[i + 1] ?? '');
    if (w.state !== 'alive') return;
    for (const task of w.running) {
      out.push(`      ${task.taskId.slice(0, 8)}  ${formatSpan(Math.max(0, now - task.since)).padStart(7)}  ${cut(task.command, commandWidth)}`);
    }
  });
  return out;
}

export function formatStatus(status: FleetStatus): string {
  const { depth, rates, lastDay } = status;
  const lines = [`queue ${status.queue} (${status.where})`];
  lines.push(
    `  tasks     ${formatCount(depth.total)} in the queue: ${formatCount(depth.waiting)} waiting, ${formatCount(depth.leased)} running` +
      ` · ${formatCount(depth.deadLetters)} dead letter(s)`,
  );
  if (rates.length > 0) {
    lines.push(`  pace      ${rates.map((r) => `${r.perMinute.toFixed(1)}/min (${r.minutes} min)`).join(' · ')}`);
  }
  if (lastDay) {
    const failed = lastDay.retried + lastDay['dead-lettered'];
    lines.push(
      `  last 24h  ${formatCount(lastDay.succeeded)} succeeded · ${formatCount(failed)} failed ` +
        `(${formatCount(lastDay.retried)} retried, ${formatCount(lastDay['dead-lettered'])} dead-lettered)` +
        ` · ${formatCount(lastDay.released)} released · ${formatCount(lastDay['lease-lost'])} lease lost`,
    );
  }
  if (rates.length > 0) {
    const eta = status.etaMs;
    lines.push(`  ETA       ${eta === null ? 'unknown (nothing finished in the last 15 min)' : eta === 0 ? 'nothing waiting' : `${formatSpan(eta)} for ${formatCount(depth.waiting)} waiting`}`);
  }
  const count = (state: WorkerStatus['state']) => status.workers.filter((w) => w.state === state).length;
  lines.push(`workers: ${count('alive')} alive, ${count('gone')} gone, ${count('stopped')} stopped`);
  lines.push(...workerLines(status.workers, status.at));
  for (const note of status.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
