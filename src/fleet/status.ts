/**
 * One look at a queue and its fleet (`jobq status`, SPEC §10): the queue's
 * depth, every worker row (alive, gone or stopped), the pace over the last
 * 1, 5 and 15 minutes, the outcomes of the last 24 hours, and an ETA for the
 * waiting tasks. All of it comes through the queue layer; what the backend
 * does not keep is left out with a note saying so.
 *
 * A worker is gone when its row was not rewritten for three of its intervals
 * (it died, or lost the store); `stopped` when it wrote its final row.
 * `leased` counts the tasks that live workers say they run; `waiting` is the
 * rest of the queue (a backend's size includes leased messages).
 */
import { noOutcomes, type OutcomeCounts, type WorkerRow } from '../backends/fleet.js';
import { errorMessage } from '../errors.js';
import type { JobQueue } from '../queue/job-queue.js';
import { etaMs, windowRate, type WindowRate } from './eta.js';

export type WorkerState = 'alive' | 'gone' | 'stopped';

export interface WorkerStatus extends WorkerRow {
  readonly state: WorkerState;
}

export interface FleetStatus {
  readonly queue: string;
  readonly where: string;
  readonly at: number;
  readonly depth: { readonly total: number; readonly leased: number; readonly waiting: number; readonly deadLetters: number };
  readonly workers: readonly WorkerStatus[];
  /** Over the last 1, 5 and 15 minutes; empty without history. */
  readonly rates: readonly WindowRate[];
  /** Outcomes of the attempts of the last 24 hours; null without history. */
  readonly lastDay: OutcomeCounts | null;
  /** When the waiting tasks will be done at the current pace, ms from `at`; null when unknown. */
  readonly etaMs: number | null;
  /** What could not be shown, and why. */
  readonly notes: readonly string[];
}

/** How many missed intervals make a worker gone. */
export const goneAfterIntervals = 3;

const rateWindowsMinutes = [1, 5, 15] as const;
const dayMs = 86_400_000;

export function workerState(row: WorkerRow, now: number): WorkerState {
  if (row.phase === 'stopped') return 'stopped';
  return now - row.lastSeen > goneAfterIntervals * row.intervalMs ? 'gone' : 'alive';
}

const stateOrder: Record<WorkerState, number> = { alive: 0, gone: 1, stopped: 2 };

export async function fleetStatus(queue: JobQueue, now = Date.now()): Promise<FleetStatus> {
  const notes: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await read();
    } catch (err) {
      notes.push(`${what}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  const fleet = queue.fleet;
  const [total, deadLetters, rows, counts] = await Promise.all([
    queue.size(),
    queue.deadLetterCount(),
    fleet.keepsWorkerRows ? attempt('workers', () => fleet.workers()) : undefined,
    fleet.keepsHistory
      ? attempt('history', () => fleet.countSince([...rateWindowsMinutes.map((m) => now - m * 60_000), now - dayMs]))
      : undefined,
  ]);
  if (!fleet.keepsWorkerRows) notes.push(`${queue.description} keeps no worker rows`);
  if (!fleet.keepsHistory) notes.push(`${queue.description} keeps no task history`);
  const workers = (rows ?? [])
    .map((row) => ({ ...row, state: workerState(row, now) }))
    .sort((a, b) => stateOrder[a.state] - stateOrder[b.state] || b.lastSeen - a.lastSeen);
  const leased = workers.filter((w) => w.state === 'alive').reduce((sum, w) => sum + w.running.length, 0);
  const waiting = Math.max(0, total - leased);
  const rates = counts
    ? rateWindowsMinutes.map((minutes, i) => {
        const c = counts[i] ?? noOutcomes();
        return windowRate(minutes, c.succeeded + c['dead-lettered']);
      })
    : [];
  return {
    queue: queue.name,
    where: queue.description,
    at: now,
    depth: { total, leased, waiting, deadLetters },
    workers,
    rates,
    lastDay: counts?.[rateWindowsMinutes.length] ?? null,
    etaMs: rates.length > 0 ? etaMs(waiting, rates) : null,
    notes,
  };
}
