/**
 * Logs go to stderr (SPEC §9): `text` is one line of time, level and message;
 * `json` is one JSON object a line, with an `event` field on task events.
 * Written to a file descriptor, lines go out in batches (held-writes.ts).
 */
import { pino, stdTimeFunctions, type Logger } from 'pino';
import { TextLines } from './text-lines.js';
import type { TextSink } from './task-output.js';
import { HeldWrites } from './held-writes.js';

export type { Logger } from 'pino';
export type LogFormat = 'text' | 'json';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LoggerOptions {
  /** Default `text`. */
  format?: LogFormat;
  /** Default `info`. */
  level?: LogLevel;
  /** A file descriptor, a stream, or anything that takes whole lines (default stderr, 2). */
  destination?: number | NodeJS.WritableStream | TextSink;
  /** Text lines with their level in colour (default false; the CLI sets it on a terminal unless NO_COLOR is set). */
  color?: boolean;
}

const levels: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug', 'trace'];

/** The level for `-v`/`-q` counts: each -v one step more verbose than `base` (default info), each -q one step quieter. */
export function levelFromVerbosity(verbose: number, quiet: number, base: LogLevel = 'info'): LogLevel {
  const index = Math.min(levels.length - 1, Math.max(0, levels.indexOf(base) + verbose - quiet));
  return levels[index] ?? 'info';
}

/** Whether `text` names a log level. */
export function isLogLevel(text: string | undefined): text is LogLevel {
  return levels.some((level) => level === text);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const given = options.destination ?? 2;
  const destination = typeof given === 'number' ? new HeldWrites(given) : given;
  if (options.format === 'json') {
    return pino(
      {
        level,
        base: null,
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  }
  const text = new TextLines(destination, options.color ?? false);
  return pino({ level, base: null, hooks: { logMethod: text.logMethod } }, destination);
}

/** A logger that drops everything (the API's default when none is given). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
