/**
 * `jobq SPEC dashboard` in headless Chromium, with real workers on a real
 * queue (local/ and Azurite): the page shows the three workers, counts that
 * match `jobq status`, charts with data points, a task's attempts, and a
 * dead letter requeued from the page that the CLI then finds back in the
 * queue. No secret of a task (its env, a token in its command) reaches the
 * browser, and the page asks nothing of any other origin. A screenshot of
 * each view is saved in the test's JOBQ_HOME (and the overview where
 * JOBQ_README_SCREENSHOT says, for the README).
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { FleetStatus } from '../../src/fleet/status.js';
import { startAzurite } from '../helpers/azurite.js';
import { launchChromium, requireChromium } from '../helpers/browser.js';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { startDashboard } from '../helpers/dashboard.js';
import { waitFor, waitForValue } from '../helpers/wait.js';

const azurite = await startAzurite();
after(() => azurite.stop());

/** Secrets a task carries: in its env, and in its command. Neither may reach the browser. */
const envSecret = 'sk-env-7f3a9c1e5b';
const commandSecret = 'hf-cmd-2b8d4e6f0a';

async function status(spec: string, env: NodeJS.ProcessEnv): Promise<FleetStatus> {
  const result = await runCli([spec, 'status', '--json'], { env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as FleetStatus;
}

async function text(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

async function chartData(page: Page, testId: string): Promise<{ points: number; max: number }> {
  const chart = page.getByTestId(testId);
  return { points: Number(await chart.getAttribute('data-points')), max: Number(await chart.getAttribute('data-max')) };
}

function dashboardSuite(label: string, spec: string, extraEnv: () => NodeJS.ProcessEnv): void {
  describe(`jobq dashboard in Chromium (${label})`, () => {
    const home = tempHome();
    after(() => home.cleanup());

    it('shows three workers, counts that match jobq status, charts with data, and requeues a dead letter from the page', async (t) => {
      if (!requireChromium(t)) return;
      const env = { ...home.env, ...extraEnv(), JOBQ_WORKER_ROW_INTERVAL: '1s', JOBQ_ENVIRONMENT_NAME: 'dash-test' };
      const quick = Array.from({ length: 20 }, (_, i) => ['-c', `echo quick ${i}`]).flat();
      assert.equal((await runCli([spec, 'push', ...quick, '-c', `HF_TOKEN=${commandSecret} true`], { env })).code, 0);
      const failing = await runCli([spec, 'push', '-e', `API_TOKEN=${envSecret}`, '-c', 'echo boom-output >&2; exit 3'], { env });
      assert.equal(failing.code, 0, failing.stderr);
      const drained = await runCli([spec, 'worker'], { env });
      assert.equal(drained.code, 0, drained.stderr);
      const dead = await runCli([spec, 'dlq', 'list', '--json'], { env });
      const failedId = (JSON.parse(dead.stdout.trim()) as { task_id: string }).task_id;

      const long = Array.from({ length: 6 }, (_, i) => ['-c', `sleep 120 # dash long ${i}`]).flat();
      assert.equal((await runCli([spec, 'push', ...long], { env })).code, 0);
      const workers = Array.from({ length: 3 }, () => startCli([spec, 'worker'], { env }));
      const { cli: dashboard, url } = await startDashboard(spec, env);
      const origin = new URL(url).origin;
      const browser = await launchChromium();
      const requests: string[] = [];
      const bodies: Array<Promise<string>> = [];
      try {
        const page = await browser.context.newPage();
        page.on('request', (request) => requests.push(request.url()));
        page.on('response', (response) => bodies.push(response.text().catch(() => '')));
        await page.goto(url);
        const shoot = (name: string) => page.screenshot({ path: path.join(home.home, `${name}.png`), fullPage: true });

        // The three workers, each running one long task; then the page's counts against `jobq status`.
        await waitFor(async () => (await page.locator('#workers-body tr[data-state=alive]').count()) === 3, {
          timeoutMs: 60_000,
          message: () => workers.map((w) => w.output).join('\n---\n'),
        });
        await waitFor(async () => (await text(page, 'count-leased')) === '3', { timeoutMs: 30_000 });
        const expected = await waitForValue(async () => {
          const s = await status(spec, env);
          return s.workers.filter((w) => w.state === 'alive' && w.running.length === 1).length === 3 ? s : undefined;
        });
        await waitFor(async () => (await text(page, 'count-waiting')) === String(expected.depth.waiting));
        assert.equal(await text(page, 'count-leased'), String(expected.depth.leased));
        assert.equal(await text(page, 'count-dead'), String(expected.depth.deadLetters));
        assert.equal(await text(page, 'count-total'), String(expected.depth.total));
        assert.equal(await text(page, 'count-workers'), '3');
        assert.equal(expected.depth.deadLetters, 1);

        // Charts: depth sampled at least twice, throughput from the history (a whole 10 s bucket), workers from the rows.
        await waitFor(async () => (await chartData(page, 'chart-depth')).points >= 6, { timeoutMs: 30_000 });
        await waitFor(async () => (await chartData(page, 'chart-throughput')).max > 0, { timeoutMs: 30_000 });
        assert.ok((await chartData(page, 'chart-workers')).max >= 3);
        assert.ok((await chartData(page, 'chart-runtimes')).points >= 3);
        assert.match(await text(page, 'runtimes'), /\//);
        await shoot('overview');
        if (process.env['JOBQ_README_SCREENSHOT']) copyFileSync(path.join(home.home, 'overview.png'), process.env['JOBQ_README_SCREENSHOT']);

        await page.click('nav a[data-view=workers]');
        const rows = page.locator('#workers-body tr[data-state=alive]');
        for (let i = 0; i < 3; i += 1) {
          assert.match((await rows.nth(i).textContent()) ?? '', /dash-test.*running.*sleep 120 # dash long \d/s);
        }
        await shoot('workers');

        await page.click('nav a[data-view=tasks]');
        await page.getByTestId('task-text').fill('boom');
        await page.getByTestId('task-text').press('Enter');
        await page.locator(`#tasks-body tr[data-task="${failedId}"]`).click();
        const detail = page.getByTestId('task-detail');
        await waitFor(async () => /exit code 3/.test((await detail.textContent()) ?? ''));
        assert.match((await detail.textContent()) ?? '', /dead-lettered.*result: exit code 3.*boom-output/s);
        await shoot('tasks');

        await page.click('nav a[data-view=dead-letters]');
        const row = page.locator(`#dead-body tr[data-task="${failedId}"]`);
        await row.waitFor();
        assert.match((await row.textContent()) ?? '', /API_TOKEN=\*\*\*/);
        await shoot('dead-letters');
        await row.getByTestId('requeue-one').click();
        await page.getByTestId('confirm-ok').click();
        await waitFor(async () => /requeued 1 task/.test(await text(page, 'toast')));
        await waitFor(async () => (await text(page, 'dead-count')).startsWith('0 dead letter'));

        // Back in the queue, as the CLI sees it; NAME-failed is empty.
        const peek = await runCli([spec, 'peek', '-n', '32', '--json-lines'], { env });
        assert.ok(peek.stdout.split('\n').some((line) => line.includes(failedId)), peek.stdout);
        assert.equal((await runCli([spec, 'dlq', 'list', '--json'], { env })).stdout.trim(), '');

        const received = (await Promise.all(bodies)).join('\n') + (await page.content());
        assert.ok(!received.includes(envSecret), 'the env secret never reached the page');
        assert.ok(!received.includes(commandSecret), 'the command secret never reached the page');
        assert.ok(received.includes('HF_TOKEN=***'), 'the command is shown, its secret hidden');
        if (extraEnv()['JOBQ_CONNECTION_STRING']) assert.ok(!received.includes('AccountKey='), 'no connection string either');
        assert.deepEqual(requests.filter((r) => !r.startsWith(origin)), [], 'nothing is asked of another origin');
      } finally {
        await browser.close();
        dashboard.signal('SIGINT');
        for (const worker of workers) worker.signal('SIGKILL');
        await Promise.all([dashboard.exited, ...workers.map((w) => w.exited)]);
      }
    });
  });
}

dashboardSuite('local/', 'local/dash', () => ({}));
dashboardSuite('Azurite', 'devstoreaccount1/dash', () => ({ JOBQ_CONNECTION_STRING: azurite.connectionString }));
