import { UsageError } from '../errors.js';

const unitMs = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Parses a duration `<integer>[smhdw]` (SPEC §5) into milliseconds. A bare
 * integer is seconds, as in the reference.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^\s*(\d+)\s*([smhdw]?)\s*$/.exec(text);
  if (!match) {
    throw new UsageError(`invalid ${what} "${text}": expected an integer with an optional unit s, m, h, d or w (e.g. 10m)`);
  }
  const unit = (match[2] || 's') as keyof typeof unitMs;
  return Number(match[1]) * unitMs[unit];
}

/** A duration in ms written back in the largest exact unit, for logs and help. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= unitMs[unit] && ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${ms}ms`;
}
