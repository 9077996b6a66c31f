/** The Overview: the numbers of the moment in cards, then the four charts over the last minutes. */
import type { Overview } from '../api-types.js';
import { Chart } from './chart.js';
import { byId, fill, h } from './dom.js';
import { count, rate, span } from './format.js';

function card(label: string, value: string, testId: string, sub?: string, wide = false): HTMLElement {
  return h('div', { class: wide ? 'card wide' : 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value', 'data-testid': testId }, value), sub && h('div', { class: 'sub' }, sub));
}

function listOf(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'none' : entries.map(([name, n]) => `${name} ${n}`).join(' · ');
}

export class OverviewView {
  private readonly charts = {
    depth: new Chart(byId('chart-depth')),
    throughput: new Chart(byId('chart-throughput'), ['#16a34a', '#dc2626']),
    workers: new Chart(byId('chart-workers'), ['#9333ea']),
    runtimes: new Chart(byId('chart-runtimes'), ['#2563eb', '#d97706', '#dc2626']),
  };

  render(o: Overview): void {
    const alive = o.workers.filter((w) => w.state === 'alive').length;
    const pace = o.rates[0];
    const window = span(o.windowMs);
    fill(
      byId('cards'),
      card('waiting', count(o.depth.waiting), 'count-waiting'),
      card('leased (running)', count(o.depth.leased), 'count-leased'),
      card('dead letters', count(o.depth.deadLetters), 'count-dead'),
      card('in the queue', count(o.depth.total), 'count-total'),
      card('workers alive', count(alive), 'count-workers', `${o.workers.length - alive} gone or stopped`),
      card('pace', pace ? `${rate(pace.perMinute)}/min` : '–', 'pace', o.rates.map((r) => `${r.minutes} min: ${rate(r.perMinute)}`).join(' · ')),
      card('ETA', o.depth.waiting === 0 || o.etaMs === null ? '–' : span(o.etaMs), 'eta', o.depth.waiting === 0 ? 'nothing waiting' : `for ${count(o.depth.waiting)} waiting`),
      card(
        'runtime p50 / p90 / p99',
        o.runtimes ? `${span(o.runtimes.p50)} / ${span(o.runtimes.p90)} / ${span(o.runtimes.p99)}` : '–',
        'runtimes',
        o.runtimes ? `${count(o.runtimes.count)} runs, last ${window}` : `no runs in the last ${window}`,
        true,
      ),
      card(
        'last 24 h',
        o.lastDay ? `${count(o.lastDay.succeeded)} ok` : '–',
        'last-day',
        o.lastDay ? `${count(o.lastDay.retried + o.lastDay['dead-lettered'])} failed · ${count(o.lastDay.released)} released` : undefined,
      ),
      card('tasks released by stops', listOf(o.stops.released), 'stops', `workers: ${listOf(o.stops.phases)}`, true),
    );
    fill(byId('notes'), ...o.notes.map((note) => h('div', {}, note)));
    this.charts.depth.update(o.charts.depth);
    this.charts.throughput.update(o.charts.throughput);
    this.charts.workers.update(o.charts.workers);
    this.charts.runtimes.update(o.charts.runtimes);
  }
}
