/**
 * What a worker's telemetry reads and hears (src/metrics/telemetry.ts): who
 * the worker is (its dimensions on every metric and event), what it does
 * now (read when metrics are collected), and the queue's depth, sampled at
 * most every `minIntervalMs` however often it is asked for.
 */
import type { AttemptRecord, WorkerPhase } from '../backends/fleet.js';
import type { EventLevel, WorkerEventFields } from '../worker/worker-events.js';

/** The buckets of task durations, seconds: a tenth of a second to six hours (Prometheus and OTLP alike). */
export const durationBuckets = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21_600];

export interface QueueDepth {
  /** Tasks in the queue, leased ones included. */
  readonly size: number;
  readonly deadLetters: number;
}

export interface TelemetrySource {
  readonly queue: string;
  readonly workerId: string;
  readonly host: string;
  /** JOBQ_ENVIRONMENT_NAME, as ai4s-jobq's dimension `environment`. */
  readonly environment: string | null;
  readonly version: string;
  readonly slots: number;
  running(): number;
  /** Leases held: running tasks and those leased ahead. */
  leasesHeld(): number;
  phase(): WorkerPhase;
  /** Whether a preemption notice stands or the worker braces for one. */
  preempted(): boolean;
  /** The queue's depth (the sinks get it sampled; undefined until a read succeeded). */
  depth(): Promise<QueueDepth | undefined>;
}

/** One exporter of the worker's telemetry: Prometheus, OTLP, Azure Monitor. */
export interface TelemetrySink {
  /** An attempt ended (its record, as the history keeps it). */
  attempt(attempt: AttemptRecord): void;
  /** An event was logged. */
  event(level: EventLevel, fields: WorkerEventFields, message: string): void;
  /** Sends what is pending and stops. */
  close(): Promise<void>;
}

/** The queue's depth read at most once per `minIntervalMs`; a failed read keeps the last value. */
export class DepthSampler {
  private last: { at: number; depth: QueueDepth } | undefined;
  private reading: Promise<QueueDepth | undefined> | undefined;

  constructor(
    private readonly read: () => Promise<QueueDepth>,
    private readonly minIntervalMs = 10_000,
  ) {}

  get(): Promise<QueueDepth | undefined> {
    if (this.last && Date.now() - this.last.at < this.minIntervalMs) return Promise.resolve(this.last.depth);
    this.reading ??= this.read()
      .then((depth) => {
        this.last = { at: Date.now(), depth };
        return depth;
      })
      .catch(() => this.last?.depth)
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
