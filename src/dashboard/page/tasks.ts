/** The Tasks view: search the history by id or command, filter by outcome; a task's attempts one under the other. */
import type { AttemptView, TaskDetail, TaskSearchResult } from '../api-types.js';
import { getJson } from './api.js';
import { byId, fill, h, toast } from './dom.js';
import { count, shortId, span, when } from './format.js';

function attemptRow(a: AttemptView, onOpen: (taskId: string) => void): HTMLTableRowElement {
  const tr = h(
    'tr',
    { class: 'clickable', 'data-task': a.taskId },
    h('td', {}, when(a.endedAt)),
    h('td', { title: a.taskId }, shortId(a.taskId)),
    h('td', { class: `outcome-${a.outcome}` }, a.outcome, a.stop && ` (${a.stop})`),
    h('td', {}, a.exitCode ?? a.signal ?? '–'),
    h('td', {}, span(a.durationMs)),
    h('td', {}, a.workerId),
    h('td', { class: 'command' }, a.command),
  );
  tr.addEventListener('click', () => onOpen(a.taskId));
  return tr;
}

function attemptBlock(a: AttemptView): HTMLElement {
  const result = a.outcome === 'succeeded' ? 'succeeded (exit 0)' : (a.error ?? a.outcome);
  return h(
    'div',
    { class: 'attempt' },
    h('div', {}, h('strong', { class: `outcome-${a.outcome}` }, a.outcome), ` on ${a.workerId} (${a.host}), ${when(a.startedAt)}, ran ${span(a.durationMs)}`),
    h('div', {}, `exit code ${a.exitCode ?? '–'}`, a.signal && `, signal ${a.signal}`, a.stop && `, stopped by ${a.stop}`),
    h('div', {}, 'result: ', result),
    a.output && h('pre', {}, a.output),
  );
}

export class TasksView {
  constructor() {
    byId<HTMLFormElement>('task-search').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.search();
    });
  }

  async search(): Promise<void> {
    const text = byId<HTMLInputElement>('task-text').value;
    const outcome = byId<HTMLSelectElement>('task-outcome').value;
    const query = new URLSearchParams({ q: text, outcome });
    try {
      const found = await getJson<TaskSearchResult>(`/api/tasks?${query}`);
      const body = byId('tasks-body');
      if (found.attempts.length === 0) fill(body, h('tr', {}, h('td', { colspan: '7', class: 'muted' }, 'no attempt matches')));
      else fill(body, ...found.attempts.map((a) => attemptRow(a, (id) => void this.open(id))));
      byId('task-scope').textContent = found.complete
        ? `${count(found.attempts.length)} shown`
        : `${count(found.attempts.length)} shown, from the newest ${count(found.scanned)} attempts`;
    } catch (err) {
      toast(`search failed: ${(err as Error).message}`);
    }
  }

  async open(taskId: string): Promise<void> {
    const detail = await getJson<TaskDetail>(`/api/tasks/${encodeURIComponent(taskId)}`);
    const box = byId('task-detail');
    box.hidden = false;
    fill(
      box,
      h('h3', {}, `Task ${detail.taskId}`),
      h('div', {}, detail.attempts[0]?.command ?? ''),
      h('div', { class: 'muted' }, detail.runningOn.length === 0 ? 'not running now' : detail.runningOn.map((r) => `running on ${r.workerId} since ${when(r.since)}`).join('; ')),
      ...detail.attempts.map(attemptBlock),
    );
  }
}
