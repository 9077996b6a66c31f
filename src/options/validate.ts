/** Checks of option values where they come in, with messages that name the option (STYLE practice 8). */
import { UsageError } from '../errors.js';
import { formatDuration, MAX_TIMER_MS } from './duration.js';

/** An integer in [min, max], or a UsageError naming the option. */
export function integerOption(value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new UsageError(`${name} must be an integer ${range}, got ${value}`);
  }
  return value;
}

/**
 * A duration in ms: a finite number in [min, max], or a UsageError naming the
 * option, with the bounds and the value in units a person reads (`1w`, not
 * 604800000). `max` defaults to MAX_TIMER_MS: most durations become timers.
 */
export function durationOption(value: number, name: string, min = 0, max: number = MAX_TIMER_MS): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    const range = `between ${formatDuration(min)} and ${formatDuration(max)}`;
    throw new UsageError(`${name} must be a duration ${range}, got ${Number.isFinite(value) ? formatDuration(value) : String(value)}`);
  }
  return value;
}

