/**
 * The history record of one finished attempt (src/backends/fleet.ts), made
 * by the task's execution from what it knows: what ran, how it ended, and
 * the stop that released it. What ran is cut to `maxCommandChars`; a failed
 * run keeps its last `maxOutputLines` lines of output, at most
 * `maxOutputChars`.
 */
import type { AttemptOutcome, AttemptRecord } from '../backends/fleet.js';
import type { TaskOutcome } from '../processors/processor.js';

export const maxCommandChars = 1000;
const maxOutputLines = 20;
const maxOutputChars = 4096;

/** Who records attempts: the worker's identity, and the stop in force (null: none). */
export interface AttemptRecorder {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  /** The stop that is stopping tasks now (`SIGTERM`, `SIGINT`, `azure`…), or null. */
  stopCause(): string | null;
}

export interface AttemptFacts {
  readonly taskId: string;
  readonly kind: string;
  readonly command: string;
  readonly outcome: AttemptOutcome;
  /** When the task started (epoch ms), and how long it ran; undefined when it did not run. */
  readonly startedAt: number | undefined;
  readonly durationMs: number;
  readonly ended: TaskOutcome | undefined;
  readonly stop: string | null;
  /** Why it failed when it did not run (the delivery limit). */
  readonly error?: string;
  readonly output: readonly string[];
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The last lines of output, at most maxOutputChars (the newest kept). */
function outputTail(lines: readonly string[]): string | null {
  if (lines.length === 0) return null;
  const text = lines.slice(-maxOutputLines).join('\n');
  return text.length > maxOutputChars ? text.slice(text.length - maxOutputChars) : text;
}

export function attemptRecord(by: AttemptRecorder, facts: AttemptFacts): AttemptRecord {
  const now = Date.now();
  const failed = facts.ended !== undefined && !facts.ended.ok ? facts.ended : undefined;
  const failedRun = facts.outcome === 'retried' || facts.outcome === 'dead-lettered';
  return {
    taskId: facts.taskId,
    kind: facts.kind,
    command: cut(facts.command, maxCommandChars),
    workerId: by.workerId,
    host: by.host,
    pid: by.pid,
    startedAt: facts.startedAt ?? now,
    endedAt: now,
    durationMs: facts.durationMs,
    outcome: facts.outcome,
    stop: facts.outcome === 'released' ? facts.stop : null,
    exitCode: facts.ended === undefined ? null : facts.ended.ok ? 0 : (failed?.exitCode ?? null),
    signal: failed?.signal ?? null,
    error: failed?.error ?? facts.error ?? null,
    output: failedRun ? outputTail(facts.output) : null,
  };
}
