/**
 * The `text` log format: `[YYYY-MM-DD HH:MM:SS.mmm] LEVEL: message`, in local
 * time, the call's fields left out (they are in `--log-format json`). It is
 * pino's `logMethod` hook: the line is made from the call's arguments, and
 * pino's serialization to JSON never runs. (pino-pretty, which parsed pino's
 * JSON again, cost about 20 µs a line, as much as the rest of a function
 * task; a JSON round trip still cost 4.)
 */
import { format } from 'node:util';
import type { LogFn } from 'pino';

const levelLabels: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** ANSI colours of the level labels on a terminal. */
const levelColors: Readonly<Record<number, string>> = {
  10: '\x1b[90m',
  20: '\x1b[36m',
  30: '\x1b[32m',
  40: '\x1b[33m',
  50: '\x1b[31m',
  60: '\x1b[41m',
};
const resetColor = '\x1b[0m';

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The message of a pino call: `(fields?, message?, ...format arguments)`, or `(error)`. */
function messageOf(args: readonly unknown[]): string {
  // Indexed, not destructured: a worker logs two lines per task, and `...rest` copies the arguments each time.
  const first = args[0];
  if (typeof first === 'string') return args.length === 1 ? first : format(...(args as [string, ...unknown[]]));
  const message = args[1];
  if (typeof message === 'string') return args.length === 2 ? message : format(...(args.slice(1) as [string, ...unknown[]]));
  return first instanceof Error ? first.message : '';
}

/** `YYYY-MM-DD HH:MM:SS` in local time. */
function localSecond(d: Date): string {
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

/** A time as the text log lines show it, `YYYY-MM-DD HH:MM:SS.mmm` in local time, so that every time jobq prints is in one zone. */
export function localTime(date: Date): string {
  return `${localSecond(date)}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** Writes each log call to `sink` as one text line. */
export class TextLines {
  /** The formatted date and time to the second, for the second `second` (ms since the epoch / 1000). */
  private second = Number.NaN;
  private secondText = '';

  constructor(
    private readonly sink: { write(text: string): unknown },
    private readonly color = false,
  ) {}

  /** pino's `hooks.logMethod`: called for enabled levels only. */
  readonly logMethod = (args: Parameters<LogFn>, _method: LogFn, level: number): void => {
    const message = messageOf(args);
    const plain = levelLabels[level] ?? 'USERLVL';
    const label = this.color ? `${levelColors[level] ?? ''}${plain}${resetColor}` : plain;
    this.sink.write(`[${this.formatTime(Date.now())}] ${label}:${message === '' ? '' : ` ${message}`}\n`);
  };

  private formatTime(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.secondText = localSecond(new Date(second * 1000));
    }
    return `${this.secondText}.${String(ms - second * 1000).padStart(3, '0')}`;
  }
}
