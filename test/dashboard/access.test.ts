/**
 * Who may do what on the dashboard, through the real command: bound to a
 * non-loopback address (0.0.0.0, reached here over loopback) every request
 * needs the token, and the page asks for it, then requeues with it; on
 * loopback reads are open but only to requests addressed to loopback (a
 * DNS-rebound name is refused), and writes need the token; --read-only
 * refuses writes and shows none; a token too short to be safe is a usage error.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { launchChromium, requireChromium } from '../helpers/browser.js';
import { assertOneErrorLine, runCli, tempHome } from '../helpers/cli.js';
import { startDashboard } from '../helpers/dashboard.js';
import { waitFor } from '../helpers/wait.js';

const spec = 'local/access';

/** A GET with the Host header given (fetch may not set it), answering the status code. */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { host } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('dashboard access', () => {
  const home = tempHome();
  after(() => home.cleanup());
  const env = { ...home.env, JOBQ_DASHBOARD_TOKEN: undefined };
  let failedId = '';

  before(async () => {
    assert.equal((await runCli([spec, 'push', '-c', 'exit 4'], { env })).code, 0);
    assert.equal((await runCli([spec, 'worker'], { env })).code, 0);
    const dead = await runCli([spec, 'dlq', 'list', '--json'], { env });
    failedId = (JSON.parse(dead.stdout.trim()) as { task_id: string }).task_id;
  });

  it('off loopback: every request needs the token; the page asks for it, and requeues with it', async (t) => {
    if (!requireChromium(t)) return;
    const { cli, url } = await startDashboard(spec, env, ['--host', '0.0.0.0']);
    const browser = await launchChromium();
    try {
      assert.match(cli.stderr, /listening on 0\.0\.0\.0: every request needs the token/);
      const printed = new URL(url);
      const token = /^#token=(.+)$/.exec(printed.hash)?.[1];
      assert.ok(token, `the generated token is in the URL: ${url}`);
      const base = `http://127.0.0.1:${printed.port}`;
      const requeue = `${base}/api/dead-letters/requeue`;
      assert.equal((await fetch(`${base}/api/overview`)).status, 401);
      assert.equal((await fetch(`${base}/api/dead-letters`)).status, 401);
      assert.equal((await fetch(requeue, { method: 'POST' })).status, 401);
      assert.equal((await fetch(requeue, { method: 'POST', headers: { authorization: 'Bearer wrong-token-000000000' } })).status, 401);
      assert.equal((await runCli([spec, 'dlq', 'list', '--json'], { env })).stdout.includes(failedId), true, 'nothing was requeued');
      assert.equal((await fetch(`${base}/api/overview`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

      // The page without the token: it asks, and with the token it shows the queue and requeues.
      const page = await browser.context.newPage();
      await page.goto(`${base}/#dead-letters`);
      await page.getByTestId('token-input').waitFor();
      assert.equal(await page.getByTestId('queue-name').textContent(), '');
      await page.getByTestId('token-input').fill(token);
      await page.getByTestId('confirm-ok').click();
      await waitFor(async () => (await page.getByTestId('queue-name').textContent()) === 'access');
      await page.reload({ waitUntil: 'load' });
      await page.click('nav a[data-view=dead-letters]');
      await page.locator(`#dead-body tr[data-task="${failedId}"]`).getByTestId('requeue-one').click();
      await page.getByTestId('confirm-ok').click();
      await waitFor(async () => /requeued 1 task/.test((await page.getByTestId('toast').textContent()) ?? ''));
      const peek = await runCli([spec, 'peek', '--json-lines'], { env });
      assert.match(peek.stdout, new RegExp(failedId));
    } finally {
      await browser.close();
      cli.signal('SIGINT');
      await cli.exited;
    }
  });

  it('on loopback: reads are open to loopback names only; writes need the token', async () => {
    const { cli, url } = await startDashboard(spec, env);
    try {
      const base = new URL(url).origin;
      assert.equal((await fetch(`${base}/api/overview`)).status, 200);
      assert.equal(await getWithHost(`${base}/api/overview`, `localhost:${new URL(url).port}`), 200);
      assert.equal(await getWithHost(`${base}/api/overview`, `rebound.example:${new URL(url).port}`), 403);
      assert.equal(await getWithHost(`${base}/`, 'rebound.example'), 403);
      const purge = await fetch(`${base}/api/dead-letters/purge`, { method: 'POST' });
      assert.equal(purge.status, 401);
      const overview = (await (await fetch(`${base}/api/overview`)).json()) as { readOnly: boolean };
      assert.equal(overview.readOnly, false);
    } finally {
      cli.signal('SIGINT');
      assert.equal((await cli.exited).code, 130);
    }
  });

  it('--read-only refuses writes, even with the token, and the page shows none', async (t) => {
    if (!requireChromium(t)) return;
    const token = 'a-token-of-enough-length';
    const { cli, url } = await startDashboard(spec, { ...env, JOBQ_DASHBOARD_TOKEN: token }, ['--read-only']);
    const browser = await launchChromium();
    try {
      assert.doesNotMatch(url, /token=/, 'a given token is not printed');
      const base = new URL(url).origin;
      const refused = await fetch(`${base}/api/dead-letters/requeue`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      assert.equal(refused.status, 403);
      const page = await browser.context.newPage();
      await page.goto(`${url}#dead-letters`);
      await waitFor(async () => (await page.locator('body.read-only').count()) === 1);
      assert.equal(await page.getByTestId('requeue-all').isVisible(), false);
      assert.equal(await page.getByTestId('purge').isVisible(), false);
    } finally {
      await browser.close();
      cli.signal('SIGINT');
      await cli.exited;
    }
  });

  it('a token shorter than 16 characters is a usage error', async () => {
    const result = await runCli([spec, 'dashboard', '--host', '0.0.0.0', '--port', '0', '--token', 'short'], { env });
    assertOneErrorLine(result, 2, /token must be at least 16 characters/);
  });
});
