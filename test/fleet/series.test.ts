/**
 * The dashboard's series (src/fleet/series.ts) over a real local queue's
 * history: throughput per bucket and runtime percentiles from recorded
 * attempts, workers alive from rows, depth from samples with a gap where no
 * one looked; attempts read again are counted once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { AttemptRecord } from '../../src/backends/fleet.js';
import { FleetSeries, percentile } from '../../src/fleet/series.js';
import type { FleetStatus, WorkerStatus } from '../../src/fleet/status.js';
import { JobQueue } from '../../src/queue/job-queue.js';

function attempt(taskId: string, endedAt: number, durationMs: number, outcome: AttemptRecord['outcome'], stop: string | null = null): AttemptRecord {
  return { taskId, kind: 'shell', command: 'true', workerId: 'w1', host: 'h', pid: 1, startedAt: endedAt - durationMs, endedAt, durationMs, outcome, stop, exitCode: 0, signal: null, error: null, output: null };
}

function status(at: number, depth: Partial<FleetStatus['depth']>, workers: WorkerStatus[] = []): FleetStatus {
  return { queue: 'q', where: 'local', at, depth: { total: 0, leased: 0, waiting: 0, deadLetters: 0, ...depth }, workers, rates: [], lastDay: null, etaMs: null, notes: [] };
}

describe('fleet series', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jobq-series-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('percentile is nearest-rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 0.5), 50);
    assert.equal(percentile(sorted, 0.99), 99);
    assert.equal(percentile([7], 0.9), 7);
  });

  it('computes throughput, runtimes, stops and workers from the history and rows; depth from samples', async () => {
    const queue = await JobQueue.open('local/series', { env: { JOBQ_HOME: home } });
    try {
      const now = Math.ceil(Date.now() / 10_000) * 10_000 - 1;
      const bucket = now - 35_000; // inside a whole 10 s bucket well before now
      for (let i = 0; i < 10; i += 1) queue.fleet.record(attempt(`ok${i}`, bucket, (i + 1) * 100, 'succeeded'));
      queue.fleet.record(attempt('bad', bucket, 50, 'dead-lettered'));
      queue.fleet.record(attempt('stopped', bucket, 5, 'released', 'SIGTERM'));
      await queue.fleet.flushHistory();
      const series = new FleetSeries(queue.fleet);
      const worker = (startedAt: number, state: WorkerStatus['state'], lastSeen: number) => ({ startedAt, state, lastSeen }) as WorkerStatus;
      const workers = [worker(now - 60_000, 'alive', now), worker(now - 60_000, 'gone', now - 30_000)];
      await series.update(status(now - 40_000, { waiting: 5 }, workers));
      await series.update(status(now, { waiting: 2, deadLetters: 1 }, workers));
      // Read again: nothing counted twice.
      await series.update(status(now, { waiting: 2, deadLetters: 1 }, workers));
      const charts = series.charts(status(now, {}, workers));

      const succeeded = charts.throughput.series[0]?.values ?? [];
      const failed = charts.throughput.series[1]?.values ?? [];
      assert.equal(succeeded.reduce<number>((sum, v) => sum + (v ?? 0), 0), 1, '10 tasks in one 10 s bucket: 1/s');
      assert.equal(failed.reduce<number>((sum, v) => sum + (v ?? 0), 0), 0.1);
      assert.deepEqual(charts.runtimePercentiles, { p50: 500, p90: 900, p99: 1000, count: 11 });
      assert.deepEqual(charts.releasedBy, { SIGTERM: 1 });

      const alive = charts.workers.series[0]?.values ?? [];
      assert.equal(alive.at(-1), 1, 'the gone worker is no longer counted');
      assert.equal(Math.max(...alive.map((v) => v ?? 0)), 2);

      // Depth: three samples and a gap (null) between the first two, 40 s apart.
      assert.deepEqual(charts.depth.series[0]?.values, [5, null, 2, 2]);
      assert.deepEqual(charts.depth.series[2]?.values, [0, null, 1, 1]);
    } finally {
      await queue.close();
    }
  });
});
