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

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** The message of a pino call: `(fields?, message?, ...format arguments)`, or `(error)`. */
function messageOf(args: readonly unknown[]): string {
  const [first, ...rest] = args;
  if (typeof first === 'string') return rest.length === 0 ? first : format(first, ...rest);
  const [message, ...values] = rest;
  if (typeof message === 'string') return values.length === 0 ? message : format(message, ...values);
  return first instanceof Error ? first.message : '';
}

/** Writes each log call to `sink` as one text line. */
export class TextLines {
  /** The formatted date and time to the second, for the second `second` (ms since the epoch / 1000). */
  private second = Number.NaN;
  private secondText = '';

  constructor(private readonly sink: { write(text: string): unknown }) {}

  /** pino's `hooks.logMethod`: called for enabled levels only. */
  readonly logMethod = (args: Parameters<LogFn>, _method: LogFn, level: number): void => {
    const message = messageOf(args);
    const label = levelLabels[level] ?? 'USERLVL';
    this.sink.write(`[${this.formatTime(Date.now())}] ${label}:${message === '' ? '' : ` ${message}`}\n`);
  };

  private formatTime(ms: number): string {
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      const d = new Date(second * 1000);
      this.second = second;
      this.secondText =
        `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
        `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    }
    return `${this.secondText}.${String(ms - second * 1000).padStart(3, '0')}`;
  }
}
