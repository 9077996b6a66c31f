/**
 * Where tasks' output goes (SPEC §9): a task's stdout lines to the worker's
 * stdout as the task wrote them, its stderr lines to the worker's stderr,
 * tagged with the task's short id (`[3209a555] `) while several tasks run at
 * once, as GNU parallel's --tag does, so that interleaved lines can be told
 * apart. `jobq worker > out.txt` therefore holds exactly what the tasks wrote
 * to stdout, and jobq's own lines (on stderr) never mix into it.
 */
import type { OutputStream } from '../processors/processor.js';

/** Whole lines of text, each ending in a newline. */
export interface TextSink {
  write(text: string): unknown;
}

export interface TaskOutput {
  /** One line a task wrote (without its newline). */
  line(taskId: string, stream: OutputStream, text: string): void;
}

/** The short id that tags a task's stderr lines. */
export function shortTaskId(taskId: string): string {
  return taskId.slice(0, 8);
}

export function taskOutput(sinks: { stdout: TextSink; stderr: TextSink }, severalRunning: () => boolean): TaskOutput {
  return {
    line(taskId, stream, text) {
      if (stream === 'stdout') sinks.stdout.write(`${text}\n`);
      else sinks.stderr.write(severalRunning() ? `[${shortTaskId(taskId)}] ${text}\n` : `${text}\n`);
    },
  };
}

/** Output nobody reads (the API's default, as its default logger is silent). */
export const discardOutput: TaskOutput = { line() {} };
