/**
 * The attempts of the last `windowMs`, kept small (when each ended, how long
 * it ran, how it ended, the stop that released it) and read from the
 * queue's history a little at a time: the first `refresh` reads the whole
 * window, each later one only what ended since the newest attempt seen,
 * less `lateMs` (a remote backend writes its attempts in batches, up to a
 * second after they ended). An attempt seen twice is kept once.
 *
 * A read returns at most `maxPerRead` attempts, the newest: when more ended
 * (thousands a second), what is older than the oldest returned is missing,
 * and `coveredFrom` says from when the window is complete.
 */
import type { AttemptOutcome } from '../backends/fleet.js';
import type { FleetRecords } from '../queue/fleet-records.js';

export interface RecentAttempt {
  readonly endedAt: number;
  readonly durationMs: number;
  readonly outcome: AttemptOutcome;
  readonly stop: string | null;
}

export interface RecentAttemptsOptions {
  /** How far back attempts are kept, ms (default 15 minutes). */
  readonly windowMs?: number;
  /** How long after its end an attempt may still be written, ms (default 10 s). */
  readonly lateMs?: number;
  /** The most attempts one read returns (default 20,000). */
  readonly maxPerRead?: number;
}

export class RecentAttempts {
  readonly windowMs: number;
  private readonly lateMs: number;
  private readonly maxPerRead: number;
  /** The kept attempts by identity (task, worker, end, outcome), so that a second read of one adds nothing. */
  private readonly kept = new Map<string, RecentAttempt>();
  private newest: number | undefined;
  private complete = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly fleet: FleetRecords,
    options: RecentAttemptsOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.lateMs = options.lateMs ?? 10_000;
    this.maxPerRead = options.maxPerRead ?? 20_000;
  }

  /** From when the kept attempts are all there were (the window's start, unless a read was cut short). */
  get coveredFrom(): number {
    return this.complete;
  }

  /** Reads what ended since the last read, and forgets what left the window. */
  async refresh(now = Date.now()): Promise<void> {
    const windowStart = now - this.windowMs;
    const first = this.newest === undefined;
    const since = first ? windowStart : Math.max(windowStart, (this.newest ?? windowStart) - this.lateMs);
    const attempts = await this.fleet.attempts({ since, limit: this.maxPerRead });
    const oldest = attempts[0];
    // Cut short: nothing is known of what ended between `since` and the oldest returned.
    if (oldest && attempts.length >= this.maxPerRead) this.complete = oldest.endedAt;
    else if (first) this.complete = windowStart;
    this.complete = Math.max(this.complete, windowStart);
    for (const a of attempts) {
      const key = `${a.taskId}\n${a.workerId}\n${a.endedAt}\n${a.outcome}`;
      if (this.kept.has(key)) continue;
      this.kept.set(key, { endedAt: a.endedAt, durationMs: a.durationMs, outcome: a.outcome, stop: a.stop });
      this.newest = Math.max(this.newest ?? a.endedAt, a.endedAt);
    }
    for (const [key, attempt] of this.kept) if (attempt.endedAt < windowStart) this.kept.delete(key);
  }

  /** The kept attempts, in no particular order. */
  list(): RecentAttempt[] {
    return [...this.kept.values()];
  }
}
