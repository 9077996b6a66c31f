/**
 * `jobq SPEC dashboard`: a small web server over one queue (Hono on Node's
 * http server). It serves one page (src/dashboard/page/) and its JSON API:
 *
 *   GET  /api/overview                          depth, workers, pace, ETA, charts (at most one look per refreshMs)
 *   GET  /api/tasks?q=&outcome=                 attempts in the history matching an id or a command
 *   GET  /api/tasks/:id                         one task's attempts, and the workers running it now
 *   GET  /api/dead-letters                      the records of NAME-failed (as many as the backend peeks)
 *   POST /api/dead-letters/:messageId/requeue   put one back on the queue
 *   POST /api/dead-letters/requeue              put every one back
 *   POST /api/dead-letters/purge                delete every one
 *
 * Who may do what is src/dashboard/auth.ts; what leaves the server,
 * src/dashboard/views.ts. The page asks for the overview every refreshMs
 * while it is visible, so with no page open nothing is read.
 */
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { attemptOutcomes, type AttemptOutcome } from '../backends/fleet.js';
import { BackendError, errorMessage } from '../errors.js';
import { searchTasks, taskAttempts } from '../fleet/task-search.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { ActionResult, DeadLetterList, TaskDetail, TaskSearchResult } from './api-types.js';
import { loadAssets } from './assets.js';
import { guards } from './auth.js';
import { resolveDashboardOptions, type DashboardOptions, type ResolvedDashboardOptions } from './options.js';
import { OverviewSource } from './overview-source.js';
import { attemptView, deadLetterView } from './views.js';

export interface Dashboard {
  /** The page's address (with the token in its fragment when it was generated). */
  readonly url: string;
  readonly options: ResolvedDashboardOptions;
  /** Stops listening and ends open connections (idempotent). */
  close(): Promise<void>;
}

/** The most dead-letter records listed (a backend may peek fewer: Azure 32). */
const maxDeadLetters = 200;

/** Security headers of every answer: nothing but this origin's own scripts, styles and requests. */
const securityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function app(queue: JobQueue, options: ResolvedDashboardOptions, port: () => number): Hono {
  const overview = new OverviewSource(queue, options);
  const assets = loadAssets();
  const guard = guards(options, port);
  const api = new Hono();
  const act = async (c: Context, what: () => Promise<string>) => {
    const message = await what();
    overview.invalidate();
    return c.json({ ok: true, message } satisfies ActionResult);
  };

  api.get('/overview', async (c) => c.json(await overview.get()));
  api.get('/tasks', async (c) => {
    const outcome = c.req.query('outcome');
    if (outcome !== undefined && outcome !== '' && outcome !== 'failed' && !attemptOutcomes.includes(outcome as AttemptOutcome)) {
      return c.json({ ok: false, message: `unknown outcome ${outcome}` } satisfies ActionResult, 400);
    }
    const found = await searchTasks(queue, {
      text: c.req.query('q') ?? '',
      ...(outcome !== undefined && outcome !== '' && { outcome: outcome as AttemptOutcome | 'failed' }),
    });
    return c.json({ attempts: found.attempts.map(attemptView), scanned: found.scanned, complete: found.complete } satisfies TaskSearchResult);
  });
  api.get('/tasks/:id', async (c) => {
    const taskId = c.req.param('id');
    const [attempts, current] = await Promise.all([taskAttempts(queue, taskId), overview.get()]);
    const runningOn = current.workers.flatMap((w) =>
      w.state === 'alive' ? w.running.filter((t) => t.taskId === taskId).map((t) => ({ workerId: w.workerId, since: t.since })) : [],
    );
    return c.json({ taskId, attempts: attempts.map(attemptView), runningOn } satisfies TaskDetail);
  });
  api.get('/dead-letters', async (c) => {
    const [entries, total] = await Promise.all([queue.deadLetterEntries(maxDeadLetters), queue.deadLetterCount()]);
    return c.json({ deadLetters: entries.map(deadLetterView), total } satisfies DeadLetterList);
  });
  api.post('/dead-letters/requeue', guard.write, (c) =>
    act(c, async () => `requeued ${await queue.requeueDeadLetters()} task(s)`),
  );
  api.post('/dead-letters/purge', guard.write, (c) =>
    act(c, async () => {
      await queue.purgeDeadLetters();
      return `purged ${queue.deadLetterName}`;
    }),
  );
  api.post('/dead-letters/:messageId/requeue', guard.write, async (c) => {
    const messageId = c.req.param('messageId');
    if (!(await queue.requeueDeadLetter(messageId))) {
      return c.json({ ok: false, message: 'that dead letter is no longer there' } satisfies ActionResult, 404);
    }
    return act(c, async () => 'requeued 1 task');
  });

  const root = new Hono();
  root.use('*', guard.host);
  root.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(securityHeaders)) c.res.headers.set(name, value);
  });
  root.use('/api/*', guard.read);
  root.route('/api', api);
  root.get('*', (c) => {
    const asset = assets.get(c.req.path);
    if (!asset) return c.notFound();
    return c.body(new Uint8Array(asset.body), 200, { 'content-type': asset.type });
  });
  root.onError((err, c) => {
    // A store that cannot be read is the server's trouble, not the request's; the message names no secret (BackendError's never do).
    const status = err instanceof BackendError ? 502 : 500;
    return c.json({ ok: false, message: errorMessage(err) } satisfies ActionResult, status);
  });
  return root;
}

/** Starts the dashboard of `queue`; resolves once it listens. */
export async function startDashboard(queue: JobQueue, given: DashboardOptions = {}): Promise<Dashboard> {
  const options = resolveDashboardOptions(given);
  let port = options.port;
  const server = createAdaptorServer({ fetch: app(queue, options, () => port).fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  // A wildcard address is reached by the machine's name.
  const address = options.host === '0.0.0.0' || options.host === '::' ? os.hostname() : shownHost;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${address}:${port}/${options.tokenGenerated ? `#token=${options.token}` : ''}`,
    options: { ...options, port },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
