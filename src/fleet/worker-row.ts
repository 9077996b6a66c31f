/**
 * A worker's live row (SPEC §10): rewritten every interval by a timer (an
 * idle worker pays one small write per interval and nothing between), and
 * once more when the worker stops, with its final phase. A write still in
 * flight when the timer fires again is not doubled: that tick is skipped.
 */
import type { RunningTaskRow, WorkerPhase, WorkerRow } from '../backends/fleet.js';
import type { FleetRecords } from '../queue/fleet-records.js';

/** What the row is made of: the worker's identity, and what it does now. */
export interface WorkerRowSource {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly slots: number;
  readonly version: string;
  readonly environment: string | null;
  readonly intervalMs: number;
  phase(): WorkerPhase;
  running(): RunningTaskRow[];
  counts(): { succeeded: number; failed: number };
}

export class WorkerRowReporter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor(
    private readonly fleet: FleetRecords,
    private readonly source: WorkerRowSource,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Writes the row now and then every interval. */
  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.source.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes the final row (phase `stopped`, nothing running). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.fleet.putWorker(this.row('stopped', [])).catch(this.onError);
  }

  private tick(): void {
    if (this.writing) return;
    this.writing = this.fleet
      .putWorker(this.row(this.source.phase(), this.source.running()))
      .catch(this.onError)
      .finally(() => (this.writing = undefined));
  }

  private row(phase: WorkerPhase, running: RunningTaskRow[]): WorkerRow {
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const cpuPercent = ((cpu.user + cpu.system) / 1000 / Math.max(1, now - this.lastAt)) * 100;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const { workerId, host, pid, slots, version, environment, intervalMs } = this.source;
    return {
      workerId,
      host,
      pid,
      slots,
      phase,
      startedAt: this.startedAt,
      lastSeen: Date.now(),
      intervalMs,
      cpuPercent: Math.round(cpuPercent * 10) / 10,
      rssBytes: process.memoryUsage.rss(),
      version,
      environment,
      running,
      ...this.source.counts(),
    };
  }
}
