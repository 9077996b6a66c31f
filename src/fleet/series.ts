/**
 * A fleet over time, for the dashboard's charts: what the queue's store
 * cannot tell afterwards is sampled, the rest is computed from the store.
 *
 * - Queue depth (waiting, leased, dead letters) is sampled: each `update`
 *   (one look at the queue, `fleetStatus`) adds a sample, kept in memory
 *   for `windowMs`. Nothing samples between looks, so a chart has a gap
 *   where nobody looked.
 * - Throughput (tasks/s succeeded and failed, per `bucketMs`), runtime
 *   percentiles (per minute, and over the window) and the stops that
 *   released tasks come from the attempts in the history (RecentAttempts).
 * - Workers alive over time come from the worker rows: each row says when
 *   its worker started and when it was last seen.
 */
import type { AttemptOutcome } from '../backends/fleet.js';
import type { FleetRecords } from '../queue/fleet-records.js';
import { RecentAttempts, type RecentAttempt } from './recent-attempts.js';
import type { FleetStatus, WorkerStatus } from './status.js';

export interface SeriesData {
  /** Epoch seconds. */
  readonly x: number[];
  readonly series: Array<{ readonly label: string; readonly values: Array<number | null> }>;
}

export interface RuntimePercentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly count: number;
}

export interface FleetCharts {
  readonly depth: SeriesData;
  readonly throughput: SeriesData;
  readonly workers: SeriesData;
  readonly runtimes: SeriesData;
  /** Over the whole window, ms; null without attempts that ran to their end. */
  readonly runtimePercentiles: RuntimePercentiles | null;
  /** Released attempts in the window by the stop that released them. */
  readonly releasedBy: Record<string, number>;
}

export interface FleetSeriesOptions {
  /** How far back the charts reach, ms (default 15 minutes). */
  readonly windowMs?: number;
  /** The throughput's and the workers' step, ms (default 10 s). */
  readonly bucketMs?: number;
}

interface DepthSample {
  readonly at: number;
  readonly waiting: number;
  readonly leased: number;
  readonly deadLetters: number;
}

/** Attempts that ran to their end (not stopped, not lost): their durations are runtimes. */
const ranOutcomes = new Set<AttemptOutcome>(['succeeded', 'retried', 'dead-lettered']);
const failedOutcomes = new Set<AttemptOutcome>(['retried', 'dead-lettered']);
const runtimeBucketMs = 60_000;

/** The value at rank `p` (0–1) of sorted numbers, by the nearest-rank method. */
export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function percentiles(durations: number[]): RuntimePercentiles | null {
  if (durations.length === 0) return null;
  const sorted = durations.sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), count: sorted.length };
}

/** Bucket starts from the window's start to now, `step` apart, aligned on multiples of `step`. */
function bucketStarts(from: number, to: number, step: number): number[] {
  const starts: number[] = [];
  for (let at = Math.ceil(from / step) * step; at < to; at += step) starts.push(at);
  return starts;
}

export class FleetSeries {
  readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly samples: DepthSample[] = [];
  private readonly recent: RecentAttempts | undefined;

  constructor(fleet: FleetRecords, options: FleetSeriesOptions = {}) {
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.bucketMs = options.bucketMs ?? 10_000;
    this.recent = fleet.keepsHistory ? new RecentAttempts(fleet, { windowMs: this.windowMs }) : undefined;
  }

  /** Adds the depth of one look at the queue, and reads the attempts that ended since the last. */
  async update(status: FleetStatus): Promise<void> {
    const { waiting, leased, deadLetters } = status.depth;
    this.samples.push({ at: status.at, waiting, leased, deadLetters });
    while ((this.samples[0]?.at ?? status.at) < status.at - this.windowMs) this.samples.shift();
    await this.recent?.refresh(status.at);
  }

  charts(status: FleetStatus): FleetCharts {
    const now = status.at;
    const attempts = this.recent?.list() ?? [];
    const ran = attempts.filter((a) => ranOutcomes.has(a.outcome));
    const releasedBy: Record<string, number> = {};
    for (const a of attempts) if (a.outcome === 'released') releasedBy[a.stop ?? 'unknown'] = (releasedBy[a.stop ?? 'unknown'] ?? 0) + 1;
    return {
      depth: this.depthChart(),
      throughput: this.throughputChart(attempts, now),
      workers: this.workersChart(status.workers, now),
      runtimes: this.runtimeChart(ran, now),
      runtimePercentiles: percentiles(ran.map((a) => a.durationMs)),
      releasedBy,
    };
  }

  /** The samples, with a gap (null) where no one looked for more than three buckets. */
  private depthChart(): SeriesData {
    const x: number[] = [];
    const columns: Array<Array<number | null>> = [[], [], []];
    let last: number | undefined;
    for (const s of this.samples) {
      if (last !== undefined && s.at - last > 3 * this.bucketMs) {
        x.push((last + s.at) / 2000);
        columns.forEach((column) => column.push(null));
      }
      x.push(s.at / 1000);
      columns[0]?.push(s.waiting);
      columns[1]?.push(s.leased);
      columns[2]?.push(s.deadLetters);
      last = s.at;
    }
    const [waiting = [], leased = [], dead = []] = columns;
    return { x, series: [{ label: 'waiting', values: waiting }, { label: 'leased', values: leased }, { label: 'dead letters', values: dead }] };
  }

  /** Tasks/s per bucket, succeeded and failed; only whole buckets, none before the attempts are complete. */
  private throughputChart(attempts: readonly RecentAttempt[], now: number): SeriesData {
    const step = this.bucketMs;
    const starts = bucketStarts(now - this.windowMs, now - step, step);
    const first = starts[0] ?? now;
    const succeeded = starts.map(() => 0);
    const failed = starts.map(() => 0);
    for (const a of attempts) {
      const index = Math.floor((a.endedAt - first) / step);
      if (index < 0 || index >= starts.length) continue;
      if (a.outcome === 'succeeded') succeeded[index] = (succeeded[index] ?? 0) + 1;
      else if (failedOutcomes.has(a.outcome)) failed[index] = (failed[index] ?? 0) + 1;
    }
    const coveredFrom = this.recent?.coveredFrom ?? Number.POSITIVE_INFINITY;
    const rate = (counts: number[]) => counts.map((n, i) => ((starts[i] ?? 0) < coveredFrom ? null : n / (step / 1000)));
    return {
      x: starts.map((at) => (at + step) / 1000),
      series: [{ label: 'succeeded/s', values: rate(succeeded) }, { label: 'failed/s', values: rate(failed) }],
    };
  }

  /** How many workers were alive at each bucket's end: a row covers its worker's start to its last sight (now, if alive). */
  private workersChart(workers: readonly WorkerStatus[], now: number): SeriesData {
    const ends = bucketStarts(now - this.windowMs, now, this.bucketMs).map((at) => at + this.bucketMs);
    const spans = workers.map((w) => ({ from: w.startedAt, to: w.state === 'alive' ? now : w.lastSeen }));
    const at = ends.map((end) => Math.min(end, now));
    return {
      x: at.map((t) => t / 1000),
      series: [{ label: 'workers alive', values: at.map((t) => spans.filter((s) => s.from <= t && t <= s.to).length) }],
    };
  }

  /** p50, p90 and p99 of the runtimes (seconds) of attempts that ended in each minute. */
  private runtimeChart(ran: readonly RecentAttempt[], now: number): SeriesData {
    const starts = bucketStarts(now - this.windowMs, now, runtimeBucketMs);
    const first = starts[0] ?? now;
    const durations: number[][] = starts.map(() => []);
    for (const a of ran) durations[Math.floor((a.endedAt - first) / runtimeBucketMs)]?.push(a.durationMs / 1000);
    const stats = durations.map((d) => percentiles(d));
    const coveredFrom = this.recent?.coveredFrom ?? Number.POSITIVE_INFINITY;
    const pick = (key: 'p50' | 'p90' | 'p99') => stats.map((s, i) => ((starts[i] ?? 0) < coveredFrom ? null : (s?.[key] ?? null)));
    return {
      x: starts.map((at) => Math.min(at + runtimeBucketMs, now) / 1000),
      series: [{ label: 'p50 s', values: pick('p50') }, { label: 'p90 s', values: pick('p90') }, { label: 'p99 s', values: pick('p99') }],
    };
  }
}
