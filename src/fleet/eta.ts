/**
 * Rates and ETAs: how fast tasks finish and when the waiting ones will be
 * done at that pace. A rate is finished tasks over a window; the ETA uses the
 * shortest window that saw any (the current pace), and is unknown when none did.
 */

export interface WindowRate {
  /** The window, in minutes. */
  readonly minutes: number;
  /** Tasks finished for good (succeeded or dead-lettered) within it. */
  readonly finished: number;
  readonly perMinute: number;
}

export function windowRate(minutes: number, finished: number): WindowRate {
  return { minutes, finished, perMinute: finished / minutes };
}

/** The ms until `remaining` tasks are done at the first of `rates` (shortest window first) that is not zero; null if all are. */
export function etaMs(remaining: number, rates: readonly WindowRate[]): number | null {
  if (remaining === 0) return 0;
  const rate = rates.find((r) => r.perMinute > 0);
  return rate ? (remaining / rate.perMinute) * 60_000 : null;
}

/**
 * The pace of one worker's own status line: tasks it finished, sampled over
 * time, the last `windowMs` of them giving the rate.
 */
export class PaceMeter {
  private readonly samples: Array<{ at: number; done: number }> = [];

  constructor(private readonly windowMs = 60_000) {}

  /** Records `done` tasks at `at` (ms) and returns the rate per ms over the window (0 when unknown). */
  sample(at: number, done: number): number {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= at - this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (!first || at <= first.at) return 0;
    return (done - first.done) / (at - first.at);
  }
}
