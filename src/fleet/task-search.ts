/**
 * Finding tasks in the history (the dashboard's Tasks view): by id, by a
 * piece of what they ran, by outcome. A whole task id is looked up by the
 * store; anything else is matched in the newest `scanLimit` attempts (the
 * store has no text index), and the answer says whether that was all.
 */
import { failedOutcomes, type AttemptOutcome, type AttemptRecord } from '../backends/fleet.js';
import type { JobQueue } from '../queue/job-queue.js';

export interface TaskSearch {
  /** A task id (whole or its start), or text that what the task ran contains (case-insensitive); empty: any. */
  readonly text?: string;
  /** Only attempts with this outcome; `failed`: retried or dead-lettered. */
  readonly outcome?: AttemptOutcome | 'failed';
  /** At most this many attempts, the newest (default 100). */
  readonly limit?: number;
  /** How many of the newest attempts a text search reads (default 5,000). */
  readonly scanLimit?: number;
}

export interface TaskSearchAnswer {
  /** Newest first. */
  readonly attempts: AttemptRecord[];
  readonly scanned: number;
  /** Whether every attempt the history holds (of that outcome) was searched. */
  readonly complete: boolean;
}

const wholeId = /^[0-9a-f]{32}$/i;

export async function searchTasks(queue: JobQueue, search: TaskSearch): Promise<TaskSearchAnswer> {
  const limit = search.limit ?? 100;
  const scanLimit = search.scanLimit ?? 5_000;
  const text = (search.text ?? '').trim().toLowerCase();
  const outcomes = search.outcome === undefined ? undefined : search.outcome === 'failed' ? failedOutcomes : [search.outcome];
  const filter = { ...(outcomes && { outcomes }) };
  if (wholeId.test(text)) {
    const attempts = (await queue.fleet.attempts({ ...filter, taskId: text, limit })).reverse();
    return { attempts, scanned: attempts.length, complete: true };
  }
  const read = text === '' ? limit : scanLimit;
  const newest = (await queue.fleet.attempts({ ...filter, limit: read })).reverse();
  const matches = text === '' ? newest : newest.filter((a) => a.taskId.startsWith(text) || a.command.toLowerCase().includes(text));
  return { attempts: matches.slice(0, limit), scanned: newest.length, complete: newest.length < read };
}

/** Every attempt of one task, oldest first. */
export function taskAttempts(queue: JobQueue, taskId: string, limit = 1_000): Promise<AttemptRecord[]> {
  return queue.fleet.attempts({ taskId, limit });
}
