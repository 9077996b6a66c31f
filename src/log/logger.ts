/**
 * Logs go to stderr (SPEC §9): `text` is one line of time, level and message;
 * `json` is one JSON object a line, with an `event` field on task events.
 */
import { destination as pinoDestination, pino, stdTimeFunctions, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';
export type LogFormat = 'text' | 'json';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LoggerOptions {
  /** Default `text`. */
  format?: LogFormat;
  /** Default `info`. */
  level?: LogLevel;
  /** A file descriptor or a stream (default stderr, 2). */
  destination?: number | NodeJS.WritableStream;
}

/** The level for `-v`/`-q` counts: each -v one step more verbose, each -q one step quieter. */
export function levelFromVerbosity(verbose: number, quiet: number): LogLevel {
  const levels: LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug', 'trace'];
  const index = Math.min(levels.length - 1, Math.max(0, 3 + verbose - quiet));
  return levels[index] ?? 'info';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const destination = options.destination ?? 2;
  if (options.format === 'json') {
    return pino(
      {
        level,
        base: null,
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      typeof destination === 'number' ? pinoDestination({ dest: destination, sync: true }) : destination,
    );
  }
  const stream = pretty({
    destination,
    sync: true,
    colorize: false,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    hideObject: true,
    ignore: 'pid,hostname',
  });
  return pino({ level, base: null }, stream);
}

/** A logger that drops everything (the API's default when none is given). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
