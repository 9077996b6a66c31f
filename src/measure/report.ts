/** The table `jobq bench` prints (its `--json` prints the BenchReport itself). */
import type { BenchReport, BenchRun } from './bench.js';
import { round } from './stats.js';

const columns: ReadonlyArray<{ title: string; value: (run: BenchRun) => string }> = [
  { title: 'kind', value: (run) => run.kind },
  { title: 'workers', value: (run) => String(run.concurrency) },
  { title: 'tasks', value: (run) => String(run.tasks) },
  { title: 'enqueue/s', value: (run) => String(Math.round(run.enqueuePerSecond)) },
  { title: 'tasks/s', value: (run) => String(Math.round(run.tasksPerSecond)) },
  { title: 'p50 ms', value: (run) => round(run.latencyMs.p50, 2).toFixed(2) },
  { title: 'p99 ms', value: (run) => round(run.latencyMs.p99, 2).toFixed(2) },
  { title: 'RSS MiB', value: (run) => String(Math.round(run.peakRssBytes / 2 ** 20)) },
];

/** The report as aligned text lines: a header, one row per run, and the recommendation per kind. */
export function formatReport(report: BenchReport): string {
  const { cpus, loadAverage } = report.machine;
  const rows = [columns.map((column) => column.title), ...report.runs.map((run) => columns.map((column) => column.value(run)))];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]?.length ?? 0)));
  const lines = rows.map((row) =>
    row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  '),
  );
  const recommendations = Object.entries(report.recommended).map(([kind, concurrency]) => {
    const run = report.runs.find((candidate) => candidate.kind === kind && candidate.concurrency === concurrency);
    return `${kind} tasks: --num-workers ${concurrency} (${Math.round(run?.tasksPerSecond ?? 0)} tasks/s)`;
  });
  return [
    `jobq bench on ${report.backend} (${cpus} CPUs, load ${loadAverage.map((load) => load.toFixed(2)).join(' ')})`,
    '',
    ...lines,
    '',
    `recommended (most tasks/s measured): ${recommendations.join('; ')}`,
  ].join('\n');
}
