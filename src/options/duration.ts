import { UsageError } from '../errors.js';

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * The longest duration that becomes a timer (a time limit, a kill timeout,
 * an interval): 24 days, just under the longest timer Node can set (2^31 - 1
 * ms, 24.8 days; a longer one fires after 1 ms).
 */
export const MAX_TIMER_MS = 24 * unitMs.d;

/**
 * The longest duration of any kind (an age, a retention, a look back), unless
 * a caller says otherwise: about ten years, so that dates computed from it
 * stay meaningful.
 */
export const MAX_DURATION_MS = 3650 * unitMs.d;

/**
 * Parses a duration `<integer>[smhdw]` (SPEC §5) into milliseconds. A bare
 * integer is seconds, as in the reference. One longer than `maxMs` (default
 * MAX_DURATION_MS) is refused with a message that says the bound.
 */
export function parseDuration(text: string, what = 'duration', maxMs = MAX_DURATION_MS): number {
  const match = /^\s*(\d+)\s*([smhdw]?)\s*$/.exec(text);
  if (!match) {
    throw new UsageError(`invalid ${what} "${text}": expected an integer with an optional unit s, m, h, d or w (e.g. 10m)`);
  }
  const unit = (match[2] || 's') as keyof typeof unitMs;
  const ms = Number(match[1]) * unitMs[unit];
  if (!(ms <= maxMs)) throw new UsageError(`invalid ${what} "${text.trim()}": must be at most ${formatDuration(maxMs)}`);
  return ms;
}

/** A duration in ms written back in the largest exact unit, for logs and help. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= unitMs[unit] && ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${ms}ms`;
}
