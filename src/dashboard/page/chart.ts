/**
 * One uPlot chart of a ChartData: made when first given data (and again if
 * its series change), then fed new data in place. Its container says how
 * many data points it shows and their largest value (`data-points`,
 * `data-max`), for people and tests alike.
 */
import type { ChartData } from '../api-types.js';

const palette = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#d97706'];

export class Chart {
  private plot: uPlot | undefined;
  private labels = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly colors: readonly string[] = palette,
  ) {
    window.addEventListener('resize', () => this.plot?.setSize(this.size()));
  }

  update(data: ChartData): void {
    const aligned: uPlot.AlignedData = [[...data.x], ...data.series.map((s) => [...s.values])];
    const values = data.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
    this.container.dataset['points'] = String(values.length);
    this.container.dataset['max'] = String(Math.max(0, ...values));
    const labels = data.series.map((s) => s.label).join('\n');
    if (this.plot && labels === this.labels) {
      this.plot.setData(aligned);
      return;
    }
    this.plot?.destroy();
    this.labels = labels;
    this.plot = new uPlot(this.options(data), aligned, this.container);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(300, this.container.clientWidth), height: 200 };
  }

  private options(data: ChartData): uPlot.Options {
    return {
      ...this.size(),
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      series: [
        {},
        ...data.series.map((s, i) => ({
          label: s.label,
          stroke: this.colors[i % this.colors.length] ?? '#000',
          width: 2,
          points: { show: true, size: 4 },
        })),
      ],
      axes: [{}, { size: 50 }],
    };
  }
}
