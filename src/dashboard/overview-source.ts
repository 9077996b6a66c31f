/**
 * The overview the page shows, looked up at most once per `refreshMs`
 * however many pages ask (they share the answer, and a look in flight), and
 * only when one asks: with no page open, the dashboard reads nothing.
 */
import { errorMessage } from '../errors.js';
import { fleetStatus } from '../fleet/status.js';
import { FleetSeries } from '../fleet/series.js';
import type { JobQueue } from '../queue/job-queue.js';
import type { Overview } from './api-types.js';
import { overviewView } from './views.js';

export class OverviewSource {
  private readonly series: FleetSeries;
  private last: { at: number; overview: Overview } | undefined;
  private looking: Promise<Overview> | undefined;

  constructor(
    private readonly queue: JobQueue,
    private readonly settings: { readonly readOnly: boolean; readonly refreshMs: number },
  ) {
    this.series = new FleetSeries(queue.fleet);
  }

  get(): Promise<Overview> {
    if (this.last && Date.now() - this.last.at < this.settings.refreshMs) return Promise.resolve(this.last.overview);
    this.looking ??= this.look().finally(() => (this.looking = undefined));
    return this.looking;
  }

  /** Forgets the last look (after a write action, the next ask looks again). */
  invalidate(): void {
    this.last = undefined;
  }

  private async look(): Promise<Overview> {
    const status = await fleetStatus(this.queue);
    const notes: string[] = [];
    await this.series.update(status).catch((err: unknown) => notes.push(`history: ${errorMessage(err)}`));
    const overview = overviewView(status, this.series.charts(status), {
      readOnly: this.settings.readOnly,
      refreshMs: this.settings.refreshMs,
      windowMs: this.series.windowMs,
      notes,
    });
    this.last = { at: Date.now(), overview };
    return overview;
  }
}
