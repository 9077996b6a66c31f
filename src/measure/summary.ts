/**
 * What the runs of `jobq bench` add up to: for each kind and concurrency, the
 * median rate and its spread over the repeated runs, and the recommendation.
 *
 * The recommendation is the smallest concurrency whose runs reach the noise
 * of the fastest one (the highest median): its best run is at least the
 * fastest one's worst run, so the measurements cannot tell them apart. More
 * slots than that cost memory and contention for nothing the runs could show.
 */
import type { BenchKind } from './options.js';
import { median } from './stats.js';

export interface BenchRun {
  readonly kind: BenchKind;
  readonly concurrency: number;
  /** 1-based: which of the repeated runs of this kind and concurrency. */
  readonly repeat: number;
  readonly tasks: number;
  readonly enqueuePerSecond: number;
  readonly tasksPerSecond: number;
  /** Lease-to-settle latency of this run's tasks (see latency.ts), ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly peakRssBytes: number;
}

export interface BenchSummary {
  readonly kind: BenchKind;
  readonly concurrency: number;
  readonly runs: number;
  /** Median over the runs, and the slowest and fastest run. */
  readonly tasksPerSecond: { readonly median: number; readonly min: number; readonly max: number };
  readonly enqueuePerSecond: number;
  /** Medians over the runs of each run's percentiles, ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly peakRssBytes: number;
}

export function summarize(runs: readonly BenchRun[]): BenchSummary[] {
  const groups = new Map<string, BenchRun[]>();
  for (const run of runs) {
    const key = `${run.kind}@${run.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0] as BenchRun;
    const rates = group.map((run) => run.tasksPerSecond);
    return {
      kind: first.kind,
      concurrency: first.concurrency,
      runs: group.length,
      tasksPerSecond: { median: median(rates), min: Math.min(...rates), max: Math.max(...rates) },
      enqueuePerSecond: median(group.map((run) => run.enqueuePerSecond)),
      latencyMs: { p50: median(group.map((run) => run.latencyMs.p50)), p99: median(group.map((run) => run.latencyMs.p99)) },
      peakRssBytes: Math.max(...group.map((run) => run.peakRssBytes)),
    };
  });
}

export interface Recommendation {
  readonly concurrency: number;
  /** The concurrency with the highest median rate. */
  readonly fastest: number;
}

/** For each kind, the recommendation described at the top of this file. */
export function recommend(summaries: readonly BenchSummary[]): Partial<Record<BenchKind, Recommendation>> {
  const result: Partial<Record<BenchKind, Recommendation>> = {};
  for (const kind of new Set(summaries.map((summary) => summary.kind))) {
    const ofKind = summaries.filter((summary) => summary.kind === kind).sort((a, b) => a.concurrency - b.concurrency);
    const fastest = ofKind.reduce((best, summary) => (summary.tasksPerSecond.median > best.tasksPerSecond.median ? summary : best));
    const enough = ofKind.find((summary) => summary.tasksPerSecond.max >= fastest.tasksPerSecond.min) ?? fastest;
    result[kind] = { concurrency: enough.concurrency, fastest: fastest.concurrency };
  }
  return result;
}
