/**
 * `jobq history` output: a table for people, one JSON object a line, or GNU
 * parallel's `--joblog` format, so that scripts written for parallel read
 * it. That format (parallel's manual, --joblog) is a header line and one
 * line per job, TAB-separated: Seq, Host, Starttime (seconds since the epoch,
 * 3 decimals), JobRuntime (seconds, 3 decimals, right-aligned in 10
 * characters as parallel writes it), Send and Receive (bytes transferred:
 * 0 here), Exitval, Signal (the number of the signal that killed the job,
 * else 0; Exitval is then 0, as parallel writes it) and Command. Seq numbers
 * the attempts shown from 1; a command's TABs and newlines become spaces, so
 * that each job stays one line.
 */
import { constants } from 'node:os';
import type { AttemptRecord } from '../backends/fleet.js';
import { columns, formatSpan, formatTime } from './units.js';

export type HistoryFormat = 'text' | 'joblog' | 'json';

export const joblogHeader = ['Seq', 'Host', 'Starttime', 'JobRuntime', 'Send', 'Receive', 'Exitval', 'Signal', 'Command'].join('\t');

function signalNumber(signal: string | null): number {
  if (signal === null) return 0;
  return (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
}

/** Exitval: the exit code; 0 when a signal killed it; 1 for a failed run with no exit code (a function task). */
function exitValue(a: AttemptRecord): number {
  if (a.exitCode !== null) return a.exitCode;
  if (a.signal !== null) return 0;
  return a.outcome === 'retried' || a.outcome === 'dead-lettered' || a.error !== null ? 1 : 0;
}

export function joblogLines(attempts: readonly AttemptRecord[]): string[] {
  return [
    joblogHeader,
    ...attempts.map((a, i) =>
      [
        String(i + 1),
        a.host,
        (a.startedAt / 1000).toFixed(3),
        (a.durationMs / 1000).toFixed(3).padStart(10),
        '0',
        '0',
        String(exitValue(a)),
        String(signalNumber(a.signal)),
        a.command.replaceAll(/[\t\r\n]/g, ' '),
      ].join('\t'),
    ),
  ];
}

/** One attempt as a JSON object (snake_case, times in ISO 8601, as `dlq list --json`). */
export function attemptJson(a: AttemptRecord): Record<string, unknown> {
  return {
    task_id: a.taskId,
    outcome: a.outcome,
    stop: a.stop,
    exit_code: a.exitCode,
    signal: a.signal,
    started_at: new Date(a.startedAt).toISOString(),
    ended_at: new Date(a.endedAt).toISOString(),
    duration_s: Math.round(a.durationMs) / 1000,
    kind: a.kind,
    command: a.command,
    worker_id: a.workerId,
    host: a.host,
    pid: a.pid,
    error: a.error,
    output: a.output === null ? null : a.output.split('\n'),
  };
}

/** How an attempt ended, in a word or two: `released (SIGINT)`. */
function outcomeText(a: AttemptRecord): string {
  return a.outcome === 'released' && a.stop !== null ? `released (${a.stop})` : a.outcome;
}

export function historyTable(attempts: readonly AttemptRecord[]): string[] {
  const header = ['ENDED', 'TASK', 'OUTCOME', 'EXIT', 'SIGNAL', 'DURATION', 'WORKER', 'COMMAND'];
  const rows = attempts.map((a) => [
    formatTime(a.endedAt),
    a.taskId.slice(0, 8),
    outcomeText(a),
    a.exitCode === null ? '-' : String(a.exitCode),
    a.signal ?? '-',
    formatSpan(a.durationMs),
    a.workerId,
    a.command.replaceAll(/\s+/g, ' ').slice(0, 120),
  ]);
  return columns([header, ...rows]);
}

export function formatHistory(attempts: readonly AttemptRecord[], format: HistoryFormat): string[] {
  switch (format) {
    case 'joblog':
      return joblogLines(attempts);
    case 'json':
      return attempts.map((a) => JSON.stringify(attemptJson(a)));
    case 'text':
      return historyTable(attempts);
  }
}
