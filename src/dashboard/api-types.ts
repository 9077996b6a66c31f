/**
 * What the dashboard's server sends its page (src/dashboard/page/): the JSON
 * of each API route. Compiled by both the server's and the page's TypeScript
 * projects, so it imports nothing. The server builds every value from these
 * types field by field (src/dashboard/views.ts): nothing else of a queue, a
 * task or a worker reaches the page, and every text that may hold a secret
 * has been through the redaction rule (src/fleet/redact.ts).
 * Times are epoch milliseconds, durations milliseconds.
 */

export type OutcomeName = 'succeeded' | 'retried' | 'dead-lettered' | 'released' | 'lease-lost';

/** Series of one chart, aligned on `x` (epoch seconds, as uPlot takes them); null is a gap. */
export interface ChartData {
  readonly x: readonly number[];
  readonly series: ReadonlyArray<{ readonly label: string; readonly values: ReadonlyArray<number | null> }>;
}

export interface RunningTaskView {
  readonly taskId: string;
  readonly command: string;
  readonly since: number;
}

export interface WorkerView {
  readonly workerId: string;
  readonly state: 'alive' | 'gone' | 'stopped';
  readonly host: string;
  readonly pid: number;
  readonly environment: string | null;
  readonly phase: string;
  readonly slots: number;
  readonly running: readonly RunningTaskView[];
  readonly lastSeen: number;
  readonly startedAt: number;
  readonly cpuPercent: number;
  readonly rssBytes: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly version: string;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** How many attempts they are taken over. */
  readonly count: number;
}

export interface Overview {
  readonly queue: string;
  /** Where the queue lives (`local:/path`, `azure:https://…`): never a secret. */
  readonly where: string;
  readonly at: number;
  /** Write actions are refused (the server runs with --read-only). */
  readonly readOnly: boolean;
  /** How often the page asks again, ms. */
  readonly refreshMs: number;
  readonly depth: { readonly total: number; readonly waiting: number; readonly leased: number; readonly deadLetters: number };
  readonly workers: readonly WorkerView[];
  /** Finished for good per minute over the last 1, 5 and 15 minutes. */
  readonly rates: ReadonlyArray<{ readonly minutes: number; readonly perMinute: number }>;
  readonly lastDay: Readonly<Record<OutcomeName, number>> | null;
  readonly etaMs: number | null;
  /** Runtimes of the attempts that ran to their end in the charts' window; null when there were none. */
  readonly runtimes: Percentiles | null;
  /** Stops in the charts' window: released attempts by what stopped them; and the workers' phases now. */
  readonly stops: { readonly released: Readonly<Record<string, number>>; readonly phases: Readonly<Record<string, number>> };
  readonly charts: {
    readonly depth: ChartData;
    readonly throughput: ChartData;
    readonly workers: ChartData;
    readonly runtimes: ChartData;
  };
  /** The charts' window, ms. */
  readonly windowMs: number;
  /** What could not be shown, and why. */
  readonly notes: readonly string[];
}

export interface AttemptView {
  readonly taskId: string;
  readonly kind: string;
  readonly command: string;
  readonly workerId: string;
  readonly host: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly durationMs: number;
  readonly outcome: OutcomeName;
  readonly stop: string | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly error: string | null;
  readonly output: string | null;
}

export interface TaskSearchResult {
  readonly attempts: readonly AttemptView[];
  /** How many of the newest attempts were searched, and whether that was all the history holds. */
  readonly scanned: number;
  readonly complete: boolean;
}

export interface TaskDetail {
  readonly taskId: string;
  /** Oldest first. */
  readonly attempts: readonly AttemptView[];
  /** Live workers running it now, and since when. */
  readonly runningOn: ReadonlyArray<{ readonly workerId: string; readonly since: number }>;
}

export interface DeadLetterView {
  /** The backend's id of the record's message: what requeueing one names. */
  readonly messageId: string;
  readonly taskId: string | null;
  readonly command: string;
  /** The task's env, with the values of names that look secret hidden. */
  readonly env: Readonly<Record<string, string>>;
  readonly error: string;
  readonly output: readonly string[];
  readonly exitCode: number | null;
  readonly failedAt: string;
  readonly host: string;
  readonly deliveries: number;
}

export interface DeadLetterList {
  readonly deadLetters: readonly DeadLetterView[];
  /** How many NAME-failed holds in all (the list shows at most the backend's peek limit). */
  readonly total: number;
}

/** The answer of a write action. */
export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
}
