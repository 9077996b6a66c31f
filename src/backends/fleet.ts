/**
 * The fleet capabilities a backend may offer beside its queues (SPEC §10):
 * a history of finished attempts and a row per live worker, both per queue.
 * A backend that has them declares `history` / `workerRows` in its
 * capability table and implements `Backend.history(name)` /
 * `Backend.workerRows(name)`; the queue layer (src/queue/fleet-records.ts) is
 * the only caller. Times are epoch milliseconds.
 *
 * What a backend must guarantee:
 * - `record` never costs the settle path a round trip of its own: the local
 *   backend writes it in the same transaction as the settle of that turn;
 *   a remote one buffers and writes in batches, and `flush` (called on close)
 *   writes what is pending. A failure rejects the call; nothing is retried.
 * - `query` returns the newest attempts first, at most `limit`.
 * - `prune` deletes at most `batch` attempts that are out of the retention
 *   policy (older than `maxAgeMs`, or beyond the newest `maxAttempts`) and
 *   returns how many it deleted, so that the caller can go on in small steps.
 */

/** How an attempt ended, as the worker settled it (src/worker/execution.ts). */
export type AttemptOutcome = 'succeeded' | 'retried' | 'dead-lettered' | 'released' | 'lease-lost';

export const attemptOutcomes: readonly AttemptOutcome[] = ['succeeded', 'retried', 'dead-lettered', 'released', 'lease-lost'];

/** Outcomes of a failed run (a retry or a dead letter). */
export const failedOutcomes: readonly AttemptOutcome[] = ['retried', 'dead-lettered'];

/** One finished attempt of a task. */
export interface AttemptRecord {
  readonly taskId: string;
  /** The task type that ran it: `shell`, a plugin's, or the function module. */
  readonly kind: string;
  /** What ran: the shell command, or the kwargs as JSON (cut to a sane length). */
  readonly command: string;
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly outcome: AttemptOutcome;
  /** The stop that released it (`SIGTERM`, `SIGINT`, `azure`…), for `released`; else null. */
  readonly stop: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The failure in one line, for a failed run. */
  readonly error: string | null;
  /** The last lines of output of a failed run, joined by newlines. */
  readonly output: string | null;
}

export interface HistoryFilter {
  /** Attempts that ended at or after this time. */
  readonly since?: number;
  readonly taskId?: string;
  readonly workerId?: string;
  /** Only these outcomes. */
  readonly outcomes?: readonly AttemptOutcome[];
  /** At most this many, the newest. */
  readonly limit: number;
}

export type OutcomeCounts = Record<AttemptOutcome, number>;

export interface RetentionPolicy {
  readonly maxAgeMs: number;
  readonly maxAttempts: number;
}

/** A queue's attempt history on a backend. */
export interface HistoryStore {
  record(attempts: readonly AttemptRecord[]): Promise<void>;
  /** The newest attempts that match, newest first. */
  query(filter: HistoryFilter): Promise<AttemptRecord[]>;
  /** For each time in `since`, how many attempts ended at or after it, by outcome. */
  countSince(since: readonly number[]): Promise<OutcomeCounts[]>;
  /** The ids of every task with a succeeded attempt in the history. */
  succeeded(): Promise<Set<string>>;
  /** Deletes at most `batch` attempts out of the policy; returns how many. */
  prune(policy: RetentionPolicy, batch: number): Promise<number>;
  /** Writes what is buffered (remote backends). */
  flush(): Promise<void>;
}

/** What a worker is doing, as its row shows it. */
export type WorkerPhase = 'running' | 'draining' | 'braced' | 'stopping' | 'stopped';

export interface RunningTaskRow {
  readonly taskId: string;
  readonly command: string;
  readonly since: number;
}

/** A worker's live row, rewritten every `intervalMs`. */
export interface WorkerRow {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly slots: number;
  readonly phase: WorkerPhase;
  readonly startedAt: number;
  readonly lastSeen: number;
  /** How often the row is rewritten: three missed intervals and the worker counts as gone. */
  readonly intervalMs: number;
  /** The process's CPU use over the last interval, percent of one core. */
  readonly cpuPercent: number;
  readonly rssBytes: number;
  readonly version: string;
  /** JOBQ_ENVIRONMENT_NAME: how a fleet is grouped. */
  readonly environment: string | null;
  readonly running: readonly RunningTaskRow[];
  readonly succeeded: number;
  readonly failed: number;
}

/** A queue's live worker rows on a backend. */
export interface WorkerRowStore {
  /** Creates or replaces the worker's row. */
  put(row: WorkerRow): Promise<void>;
  list(): Promise<WorkerRow[]>;
  /** Deletes the rows last seen before `seenBefore`; returns how many. */
  prune(seenBefore: number): Promise<number>;
}

/** Counts with every outcome at zero. */
export function noOutcomes(): OutcomeCounts {
  return { succeeded: 0, retried: 0, 'dead-lettered': 0, released: 0, 'lease-lost': 0 };
}

/** A worker row read back from storage, checked by shape (another version may have written it). */
export function readWorkerRow(value: unknown): WorkerRow | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const row = value as Partial<Record<keyof WorkerRow, unknown>>;
  const numbers = ['pid', 'slots', 'startedAt', 'lastSeen', 'intervalMs', 'cpuPercent', 'rssBytes', 'succeeded', 'failed'] as const;
  if (typeof row.workerId !== 'string' || typeof row.host !== 'string' || typeof row.phase !== 'string') return undefined;
  if (!numbers.every((key) => typeof row[key] === 'number') || !Array.isArray(row.running)) return undefined;
  return value as WorkerRow;
}

/** An attempt as the SQL backends store it: a row of their `attempts` table (times in ms since the epoch). */
export interface AttemptRow {
  task_id: string;
  kind: string;
  command: string;
  worker_id: string;
  host: string;
  pid: number;
  started_at: number;
  ended_at: number;
  duration_ms: number;
  outcome: string;
  stop: string | null;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  output: string | null;
}

/** The attempt a row of an `attempts` table holds. */
export function attemptFromRow(row: AttemptRow): AttemptRecord {
  return {
    taskId: row.task_id,
    kind: row.kind,
    command: row.command,
    workerId: row.worker_id,
    host: row.host,
    pid: row.pid,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    outcome: row.outcome as AttemptOutcome,
    stop: row.stop,
    exitCode: row.exit_code,
    signal: row.signal,
    error: row.error,
    output: row.output,
  };
}
