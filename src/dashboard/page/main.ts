/**
 * The dashboard page: four views over one queue, switched by the URL's
 * fragment (#overview, #workers, #tasks, #dead-letters). The overview is
 * asked for every `refreshMs` (the server's setting) while the page is
 * visible, and not at all while it is hidden: an idle tab costs nothing.
 */
import type { Overview } from '../api-types.js';
import { adoptTokenFromUrl, getJson } from './api.js';
import { DeadLettersView } from './dead-letters.js';
import { byId, toast } from './dom.js';
import { time } from './format.js';
import { OverviewView } from './overview.js';
import { TasksView } from './tasks.js';
import { renderWorkers } from './workers.js';

const views = ['overview', 'workers', 'tasks', 'dead-letters'] as const;
type ViewName = (typeof views)[number];

adoptTokenFromUrl();
const overview = new OverviewView();
const tasks = new TasksView();
let timer: number | undefined;
let current: ViewName = 'overview';
let lastDeadCount: number | undefined;
const deadLetters = new DeadLettersView(() => void refresh());

function show(name: ViewName): void {
  current = name;
  for (const view of views) byId(`view-${view}`).hidden = view !== name;
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) link.classList.toggle('active', link.dataset['view'] === name);
  if (name === 'tasks') void tasks.search();
  if (name === 'dead-letters') void deadLetters.load().catch((err: Error) => toast(err.message));
  window.dispatchEvent(new Event('resize'));
}

function route(): void {
  const name = location.hash.slice(1) as ViewName;
  show(views.includes(name) ? name : 'overview');
}

let loading: Promise<void> | undefined;

/** Asks for the overview now (a look already under way is shared), then again after refreshMs while visible. */
function refresh(): Promise<void> {
  loading ??= load().finally(() => (loading = undefined));
  return loading;
}

async function load(): Promise<void> {
  if (timer !== undefined) window.clearTimeout(timer);
  timer = undefined;
  let refreshMs = 2000;
  try {
    const o = await getJson<Overview>('/api/overview');
    refreshMs = o.refreshMs;
    document.body.classList.toggle('read-only', o.readOnly);
    byId('queue-name').textContent = o.queue;
    byId('queue-where').textContent = o.where;
    byId('updated').textContent = `updated ${time(o.at)}`;
    overview.render(o);
    renderWorkers(o);
    if (current === 'dead-letters' && lastDeadCount !== undefined && lastDeadCount !== o.depth.deadLetters) await deadLetters.load();
    lastDeadCount = o.depth.deadLetters;
  } catch (err) {
    byId('updated').textContent = `cannot update: ${(err as Error).message}`;
  }
  if (document.visibilityState === 'visible') timer = window.setTimeout(() => void refresh(), refreshMs);
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && timer === undefined) void refresh();
});
window.addEventListener('hashchange', route);
route();
void refresh();
