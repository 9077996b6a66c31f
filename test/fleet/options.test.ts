import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '../../src/errors.js';
import { etaMs, PaceMeter, windowRate } from '../../src/fleet/eta.js';
import { workerState } from '../../src/fleet/status.js';
import { readEnvironment } from '../../src/options/environment.js';
import { fleetDefaults, resolveFleetOptions } from '../../src/worker/fleet-options.js';

const usage = (pattern: RegExp) => (err: unknown) => hasCode(err, 'USAGE') && pattern.test((err as Error).message);

describe('fleet options in three layers', () => {
  it('defaults: history on, 7 days or 1,000,000 attempts, a row every 5 s kept a day after its worker is gone', () => {
    const resolved = resolveFleetOptions({}, readEnvironment({}));
    assert.deepEqual(resolved, { ...fleetDefaults, environmentName: null });
    assert.equal(resolved.historyMaxAgeMs, 7 * 86_400_000);
    assert.equal(resolved.historyMaxAttempts, 1_000_000);
  });

  it('the environment overrides the defaults, and given options the environment', () => {
    const environment = readEnvironment({
      JOBQ_HISTORY: 'off',
      JOBQ_HISTORY_RETENTION: '2d',
      JOBQ_HISTORY_MAX_ATTEMPTS: '5000',
      JOBQ_WORKER_ROW_INTERVAL: '0',
      JOBQ_ENVIRONMENT_NAME: 'gpu-a',
    });
    assert.deepEqual(resolveFleetOptions({}, environment), {
      history: false,
      historyMaxAgeMs: 2 * 86_400_000,
      historyMaxAttempts: 5000,
      workerRowIntervalMs: 0,
      workerRowRetentionMs: fleetDefaults.workerRowRetentionMs,
      environmentName: 'gpu-a',
    });
    const given = resolveFleetOptions({ history: true, historyMaxAttempts: 10, workerRowIntervalMs: 2000, environmentName: 'b' }, environment);
    assert.equal(given.history, true);
    assert.equal(given.historyMaxAttempts, 10);
    assert.equal(given.workerRowIntervalMs, 2000);
    assert.equal(given.environmentName, 'b');
  });

  it('refuses bad values where they come in, naming the option or variable', () => {
    assert.throws(() => readEnvironment({ JOBQ_HISTORY: 'maybe' }), usage(/JOBQ_HISTORY/));
    assert.throws(() => readEnvironment({ JOBQ_HISTORY_MAX_ATTEMPTS: '0' }), usage(/JOBQ_HISTORY_MAX_ATTEMPTS/));
    assert.throws(() => readEnvironment({ JOBQ_WORKER_ROW_INTERVAL: 'soon' }), usage(/JOBQ_WORKER_ROW_INTERVAL/));
    assert.throws(() => resolveFleetOptions({ workerRowIntervalMs: 10 }, readEnvironment({})), usage(/workerRowIntervalMs/));
    assert.throws(() => resolveFleetOptions({ historyMaxAttempts: 1.5 }, readEnvironment({})), usage(/historyMaxAttempts/));
    assert.throws(() => resolveFleetOptions({ historyMaxAgeMs: 1000 }, readEnvironment({})), usage(/historyMaxAgeMs/));
  });
});

describe('pace, ETA and gone workers', () => {
  it('the ETA uses the shortest window that saw tasks finish, and is unknown when none did', () => {
    assert.equal(etaMs(30, [windowRate(1, 10), windowRate(5, 10)]), 3 * 60_000);
    assert.equal(etaMs(30, [windowRate(1, 0), windowRate(5, 50)]), 3 * 60_000);
    assert.equal(etaMs(30, [windowRate(1, 0), windowRate(5, 0)]), null);
    assert.equal(etaMs(0, [windowRate(1, 0)]), 0);
  });

  it("a worker's own pace is taken over the last minute", () => {
    const pace = new PaceMeter(60_000);
    assert.equal(pace.sample(0, 0), 0);
    assert.equal(pace.sample(30_000, 30), 30 / 30_000);
    assert.equal(pace.sample(120_000, 60), 30 / 90_000);
    assert.equal(pace.sample(180_000, 180), 120 / 60_000);
  });

  it('a worker is gone after three missed intervals, and stopped once it wrote its final row', () => {
    const row = { phase: 'running', lastSeen: 10_000, intervalMs: 1000 } as const;
    assert.equal(workerState({ ...rowOf(row) }, 13_000), 'alive');
    assert.equal(workerState({ ...rowOf(row) }, 13_001), 'gone');
    assert.equal(workerState({ ...rowOf({ ...row, phase: 'stopped' }) }, 99_000), 'stopped');
  });
});

function rowOf(fields: { phase: 'running' | 'stopped'; lastSeen: number; intervalMs: number }) {
  return {
    workerId: 'w',
    host: 'h',
    pid: 1,
    slots: 1,
    startedAt: 0,
    cpuPercent: 0,
    rssBytes: 0,
    version: '0',
    environment: null,
    running: [],
    succeeded: 0,
    failed: 0,
    ...fields,
  };
}
