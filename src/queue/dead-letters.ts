/**
 * The dead-letter record (SPEC §3): what NAME-failed keeps of a task that
 * failed for good, or of a message that is not a task, and how it is read back.
 */
import os from 'node:os';
import type { Lease } from '../backends/backend.js';
import { parseTask, type Task } from '../task/task.js';

/** What the dead-letter queue keeps of a task that failed for good. */
export interface DeadLetterRecord {
  /** The message body as it was last leased (a task, or the raw body of an invalid one). */
  readonly task: string;
  readonly task_id: string | null;
  readonly error: string;
  /** The last lines of the task's output. */
  readonly output: readonly string[];
  readonly exit_code: number | null;
  readonly failed_at: string;
  readonly host: string;
  readonly queue: string;
  readonly deliveries: number;
  /** Set when `task` is only the start of a message that was not a valid task (it did not fit with its reason). */
  readonly task_truncated?: boolean;
}

export interface DeadLetterDetails {
  error: string;
  output?: readonly string[];
  exitCode?: number | null;
}

/**
 * The body of the record for a leased message, within `limit` UTF-8 bytes
 * (undefined: no limit). Output is dropped, oldest first, until it fits. If
 * even that is too big (quotes in the task grow when quoted again), a task is
 * stored as its bare body, which fits because it came from the same backend
 * and can be requeued; a message that is not a task is kept for its reason,
 * with its body cut to fit.
 */
export function deadLetterBody(
  queue: string,
  lease: Lease,
  task: Task | null,
  details: DeadLetterDetails,
  limit: number | undefined,
): string {
  const taskId = task?.id ?? null;
  const record = (output: readonly string[], body = lease.body): string =>
    JSON.stringify({
      task: body,
      ...(body.length < lease.body.length ? { task_truncated: true } : {}),
      task_id: taskId,
      error: details.error,
      output,
      exit_code: details.exitCode ?? null,
      failed_at: new Date().toISOString(),
      host: os.hostname(),
      queue,
      deliveries: lease.deliveries,
    } satisfies DeadLetterRecord);
  const fits = (text: string): boolean => limit === undefined || Buffer.byteLength(text, 'utf8') <= limit;
  let output = details.output ?? [];
  let body = record(output);
  while (!fits(body) && output.length > 0) {
    output = output.slice(Math.ceil(output.length / 2));
    body = record(output);
  }
  if (fits(body)) return body;
  return taskId === null ? longestFitting((length) => record([], lease.body.slice(0, length)), lease.body.length, fits) : lease.body;
}

/** The longest `make(length)` for a length up to `max` that `fits` (a binary search); make(0) if none. */
function longestFitting(make: (length: number) => string, max: number, fits: (text: string) => boolean): string {
  let low = 0;
  let high = max;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(make(middle))) low = middle;
    else high = middle - 1;
  }
  return make(low);
}

/** What a dead-lettered task ran: a shell task's command, else its kwargs as JSON, else the raw message. */
export function deadLetterCommand(record: DeadLetterRecord): string {
  try {
    const task = parseTask(record.task);
    const cmd = task.kwargs['cmd'];
    return typeof cmd === 'string' ? cmd : task.kwargsJson;
  } catch {
    return record.task;
  }
}

/** Reads a NAME-failed message: a jobq record, or a bare task body another tool put there. */
export function readDeadLetter(body: string, queue: string): DeadLetterRecord {
  try {
    const value = JSON.parse(body) as Partial<DeadLetterRecord>;
    if (typeof value === 'object' && value !== null && typeof value.task === 'string') {
      return value as DeadLetterRecord;
    }
  } catch {
    // not a record: fall through
  }
  let taskId: string | null = null;
  try {
    taskId = parseTask(body).id;
  } catch {
    // neither a record nor a task
  }
  return {
    task: body,
    task_id: taskId,
    error: 'unknown (no dead-letter record)',
    output: [],
    exit_code: null,
    failed_at: '',
    host: '',
    queue,
    deliveries: 0,
  };
}
