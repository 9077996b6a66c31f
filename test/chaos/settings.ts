/**
 * What a chaos run is given and what it must show, shared by the test
 * (suite.ts) and the manual run (bench/chaos.ts). Settings come from the
 * environment: CHAOS_TASKS (default 300), CHAOS_FAULT_INTERVAL_MS (default
 * 700), CHAOS_SEED (default random; printed), CHAOS_WORKERS (default 3) and
 * CHAOS_SLOTS (default 2).
 */
import assert from 'node:assert/strict';
import { seedFromEnv } from '../helpers/random.js';
import type { ChaosSummary } from './driver.js';

export interface ChaosSettings {
  readonly tasks: number;
  readonly seed: number;
  readonly faultIntervalMs: number;
  readonly workers: number;
  readonly slots: number;
  /** Generous for N = 300 on a loaded 2-core machine; grows with N. */
  readonly deadlineMs: number;
}

function positiveFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

export function chaosSettings(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const tasks = positiveFromEnv(env, 'CHAOS_TASKS', 300);
  return {
    tasks,
    seed: seedFromEnv('CHAOS_SEED', env),
    faultIntervalMs: positiveFromEnv(env, 'CHAOS_FAULT_INTERVAL_MS', 700),
    workers: positiveFromEnv(env, 'CHAOS_WORKERS', 3),
    slots: positiveFromEnv(env, 'CHAOS_SLOTS', 2),
    deadlineMs: 120_000 + tasks * 100,
  };
}

/** The checks every chaos run must pass. */
export function assertNothingLost(summary: ChaosSummary): void {
  const context = JSON.stringify(summary);
  assert.deepEqual(summary.lost, [], `every task completed at least once: ${context}`);
  assert.equal(summary.leftInQueue, 0, `the queue is empty: ${context}`);
  assert.equal(summary.deadLettered, 0, `nothing was dead-lettered: ${context}`);
  assert.equal(summary.duplicates.unexplained, 0, `duplicates only where a run ended unsettled: ${context}`);
  assert.deepEqual(summary.orphans, [], `no task process outlives the run: ${context}`);
  assert.deepEqual(summary.unexpectedExits, [], `every worker exited as its signals say: ${context}`);
  assert.ok(summary.faults.total > 0, `faults were injected: ${context}`);
}
