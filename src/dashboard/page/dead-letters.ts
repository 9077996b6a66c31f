/** The Dead letters view: each record with its error and output; requeue one, requeue all, purge (each confirmed first). */
import type { DeadLetterList, DeadLetterView } from '../api-types.js';
import { getJson, post } from './api.js';
import { confirmAction } from './confirm.js';
import { byId, fill, h, toast } from './dom.js';
import { count, shortId, when } from './format.js';

export class DeadLettersView {
  constructor(private readonly changed: () => void) {
    byId('requeue-all').addEventListener('click', () => void this.act('Put every dead-lettered task back on the queue?', '/api/dead-letters/requeue'));
    byId('purge').addEventListener('click', () => void this.act('Delete every dead-letter record? This cannot be undone.', '/api/dead-letters/purge'));
  }

  async load(): Promise<void> {
    const list = await getJson<DeadLetterList>('/api/dead-letters');
    const shown = list.deadLetters.length;
    byId('dead-count').textContent =
      shown < list.total ? `${count(list.total)} dead letter(s); the first ${count(shown)} shown` : `${count(list.total)} dead letter(s)`;
    const body = byId('dead-body');
    if (shown === 0) fill(body, h('tr', {}, h('td', { colspan: '7', class: 'muted' }, 'no dead letters')));
    else fill(body, ...list.deadLetters.map((d) => this.row(d)));
  }

  private row(d: DeadLetterView): HTMLTableRowElement {
    const env = Object.entries(d.env);
    const requeue = h('button', { class: 'write', 'data-testid': 'requeue-one' }, 'Requeue');
    requeue.addEventListener('click', () =>
      void this.act(`Put task ${shortId(d.taskId)} back on the queue?`, `/api/dead-letters/${encodeURIComponent(d.messageId)}/requeue`),
    );
    return h(
      'tr',
      { 'data-task': d.taskId ?? '', 'data-message': d.messageId },
      h('td', {}, when(d.failedAt)),
      h('td', { title: d.taskId ?? '' }, shortId(d.taskId)),
      h('td', { class: 'command' }, d.command, env.length > 0 && h('div', { class: 'muted' }, env.map(([k, v]) => `${k}=${v}`).join(' '))),
      h(
        'td',
        {},
        d.error,
        d.output.length > 0 && h('details', {}, h('summary', {}, `output (${d.output.length} lines)`), h('pre', {}, d.output.join('\n'))),
      ),
      h('td', {}, d.exitCode ?? '–'),
      h('td', {}, d.host),
      h('td', {}, requeue),
    );
  }

  private async act(question: string, path: string): Promise<void> {
    if (!(await confirmAction(question))) return;
    const answer = await post(path);
    toast(answer.message);
    this.changed();
    await this.load();
  }
}
