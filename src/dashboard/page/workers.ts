/** The Workers view: one row each, gone and stopped ones greyed, with what each runs and since when. */
import type { Overview, WorkerView } from '../api-types.js';
import { byId, fill, h } from './dom.js';
import { bytes, shortId, span } from './format.js';

function row(w: WorkerView, at: number): HTMLTableRowElement {
  const running = h(
    'div',
    { class: 'running' },
    ...w.running.map((t) => h('div', { title: t.command }, `${shortId(t.taskId)} ${span(at - t.since)} ${t.command.slice(0, 120)}`)),
  );
  return h(
    'tr',
    { class: w.state, 'data-worker': w.workerId, 'data-state': w.state },
    h('td', {}, w.workerId, w.state === 'alive' ? null : h('div', { class: 'muted' }, w.state)),
    h('td', {}, `${w.host} (${w.pid})`),
    h('td', {}, w.environment ?? '–'),
    h('td', {}, w.phase),
    h('td', {}, w.slots),
    h('td', {}, running),
    h('td', {}, `${span(at - w.lastSeen)} ago`),
    h('td', {}, `${w.cpuPercent}%`),
    h('td', {}, bytes(w.rssBytes)),
    h('td', {}, w.succeeded),
    h('td', {}, w.failed),
  );
}

export function renderWorkers(o: Overview): void {
  const body = byId('workers-body');
  if (o.workers.length === 0) fill(body, h('tr', {}, h('td', { colspan: '11', class: 'muted' }, 'no worker has written a row')));
  else fill(body, ...o.workers.map((w) => row(w, o.at)));
}
