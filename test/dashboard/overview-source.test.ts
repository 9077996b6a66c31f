/**
 * The dashboard reads the queue at most once per refresh however many pages
 * ask, shares a look in flight, and looks again after a write action.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { OverviewSource } from '../../src/dashboard/overview-source.js';
import { JobQueue } from '../../src/queue/job-queue.js';

describe('the overview source', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jobq-overview-'));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('looks once per refresh, shares a look in flight, and looks again when invalidated', async () => {
    const queue = await JobQueue.open('local/overview', { env: { JOBQ_HOME: home } });
    try {
      const source = new OverviewSource(queue, { readOnly: false, refreshMs: 60_000 });
      const [a, b] = await Promise.all([source.get(), source.get()]);
      assert.equal(a, b, 'two pages asking at once share one look');
      assert.equal(await source.get(), a, 'within the refresh, the same look');
      source.invalidate();
      const c = await source.get();
      assert.notEqual(c, a);
      assert.equal(c.charts.depth.x.length, 2, 'each look adds one depth sample');
    } finally {
      await queue.close();
    }
  });
});
