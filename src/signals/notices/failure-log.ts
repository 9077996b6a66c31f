/**
 * Rate-limited reports of a detector's failures (SPEC §6.3): the first
 * failure of an episode is logged at once, later ones at most once a minute
 * (with how many were left out), and the end of an episode whose failures were
 * reported is logged once. A detector that cannot reach its endpoint thus
 * writes a line a minute, never one a poll.
 */
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { NoticeSource } from './notice.js';

export class FailureLog {
  private lastReport = Number.NEGATIVE_INFINITY;
  private leftOut = 0;
  private failing = false;
  private episodeReported = false;

  /**
   * @param what what could not be read, for the log line ("AWS spot notices")
   * @param intervalMs the shortest time between two lines (default 60 s)
   */
  constructor(
    private readonly logger: Logger,
    private readonly source: NoticeSource,
    private readonly what: string,
    private readonly intervalMs = 60_000,
  ) {}

  failed(err: unknown): void {
    const now = Date.now();
    const firstOfEpisode = !this.failing;
    this.failing = true;
    if (now - this.lastReport < this.intervalMs) {
      this.leftOut += 1;
      return;
    }
    if (firstOfEpisode) this.episodeReported = true;
    const more = this.leftOut > 0 ? ` (${this.leftOut} more failure(s) since the last report)` : '';
    this.lastReport = now;
    this.leftOut = 0;
    this.logger.warn(
      { event: 'notice_endpoint_error', source: this.source },
      `cannot read ${this.what}: ${errorMessage(err)}${more}; still trying`,
    );
  }

  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    if (!this.episodeReported) return;
    this.episodeReported = false;
    this.logger.info({ event: 'notice_endpoint_recovered', source: this.source }, `${this.what} can be read again`);
  }
}
