/** The table `jobq bench` prints (its `--json` prints the BenchReport itself). */
import type { BenchReport, BenchSummary } from './bench.js';
import { round } from './stats.js';

const whole = (value: number): string => Math.round(value).toLocaleString('en-US');

const columns: ReadonlyArray<{ title: string; value: (summary: BenchSummary) => string }> = [
  { title: 'kind', value: (summary) => summary.kind },
  { title: 'workers', value: (summary) => String(summary.concurrency) },
  { title: 'runs', value: (summary) => String(summary.runs) },
  { title: 'tasks/s', value: (summary) => whole(summary.tasksPerSecond.median) },
  { title: 'slowest-fastest', value: (summary) => `${whole(summary.tasksPerSecond.min)}-${whole(summary.tasksPerSecond.max)}` },
  { title: 'enqueue/s', value: (summary) => whole(summary.enqueuePerSecond) },
  { title: 'lease-to-settle p50 ms', value: (summary) => round(summary.latencyMs.p50, 2).toFixed(2) },
  { title: 'p99 ms', value: (summary) => round(summary.latencyMs.p99, 2).toFixed(2) },
  { title: 'RSS MiB', value: (summary) => String(Math.round(summary.peakRssBytes / 2 ** 20)) },
];

/** The report as aligned text lines: a header, one row per kind and concurrency, a legend, and the recommendation. */
export function formatReport(report: BenchReport): string {
  const { cpus, loadAverage } = report.machine;
  const rows = [columns.map((column) => column.title), ...report.summaries.map((summary) => columns.map((column) => column.value(summary)))];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]?.length ?? 0)));
  const lines = rows.map((row) =>
    row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  '),
  );
  const recommendations = Object.entries(report.recommended).map(([kind, recommendation]) => {
    const of = (concurrency: number) => report.summaries.find((summary) => summary.kind === kind && summary.concurrency === concurrency);
    const chosen = of(recommendation.concurrency);
    const fastest = of(recommendation.fastest);
    const rate = `${whole(chosen?.tasksPerSecond.median ?? 0)} tasks/s`;
    const why =
      recommendation.concurrency === recommendation.fastest
        ? 'the fastest'
        : `within the spread of the fastest, ${recommendation.fastest} workers at ${whole(fastest?.tasksPerSecond.min ?? 0)}-${whole(fastest?.tasksPerSecond.max ?? 0)}`;
    const once = (chosen?.runs ?? 0) < 2 ? ', one run each, so no spread to allow for' : '';
    return `${kind} tasks: --num-workers ${recommendation.concurrency} (${rate}; ${why}${once})`;
  });
  const planned = report.interrupted ? [`interrupted: ${report.runs.length} run(s) measured before Ctrl-C`] : [];
  return [
    `jobq bench on ${report.backend} (${cpus} CPUs, load average ${loadAverage.start.toFixed(2)} at the start, ${loadAverage.end.toFixed(2)} at the end)`,
    ...report.warnings.map((warning) => `warning: ${warning}`),
    ...planned,
    '',
    ...lines,
    '',
    'tasks/s: median of the runs; slowest-fastest: the spread of the runs, the noise of the measurement.',
    'lease-to-settle: per task, from the return of the lease call to the return of the settle call',
    '(waiting for a slot, starting, running and settling it); p50 and p99 over the run\'s tasks, median of the runs.',
    'RSS: the worker process at its peak (shell tasks\' own processes not included).',
    '',
    recommendations.length === 0
      ? 'no recommendation: no run was measured'
      : `recommended (the fewest workers the measurements cannot tell from the fastest): ${recommendations.join('; ')}`,
  ].join('\n');
}
