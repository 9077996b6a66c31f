/**
 * What a detector does with what it read: log a notice once when it appears,
 * changes or goes, and hand it to the sink. A sink that throws is logged and
 * never stops the detector (STYLE practice 10). With `act: false` notices are
 * only logged (JOBQ_DISABLE_SCHEDULED_EVENTS=1 on Azure).
 */
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { sameNotice, type NoticeSink, type NoticeSource, type PreemptionNotice } from './notice.js';

const sourceNames: Record<NoticeSource, string> = { azure: 'Azure', aws: 'AWS', gcp: 'GCP' };

export interface NoticeReporterOptions {
  source: NoticeSource;
  sink: NoticeSink;
  logger: Logger;
  /** Why notices are not acted on, when they are not (default: they are). */
  ignoredBecause?: string | undefined;
}

export class NoticeReporter {
  private current: PreemptionNotice | undefined;

  constructor(private readonly options: NoticeReporterOptions) {}

  /** The notice that stands now, if any. */
  get notice(): PreemptionNotice | undefined {
    return this.current;
  }

  /** What the endpoint says now; reported only when it differs from what stood. */
  report(notice: PreemptionNotice | undefined): void {
    if (sameNotice(notice, this.current)) return;
    this.current = notice;
    const { source, logger, ignoredBecause } = this.options;
    const name = sourceNames[source];
    if (notice) {
      const deadline = notice.deadline;
      const when = deadline
        ? `; the machine goes at ${deadline.toISOString()} (in ${Math.round((deadline.getTime() - Date.now()) / 1000)} s)`
        : '';
      logger.warn(
        { event: 'preemption_notice', source, deadline: deadline?.toISOString() },
        `${name} preemption notice: ${notice.detail}${when}`,
      );
    } else {
      logger.warn({ event: 'preemption_notice_withdrawn', source }, `${name} preemption notice withdrawn`);
    }
    if (ignoredBecause !== undefined) {
      logger.warn(
        { event: 'preemption_notice_ignored', source },
        `preemption ${notice ? 'announced' : 'withdrawn'}; not acting on it (${ignoredBecause})`,
      );
      return;
    }
    this.call((sink) => sink.preemption(source, notice));
  }

  /** An early warning (AWS rebalance recommendation), logged by the caller. */
  rebalance(detail: string): void {
    this.call((sink) => sink.rebalance?.(detail));
  }

  private call(deliver: (sink: NoticeSink) => void): void {
    try {
      deliver(this.options.sink);
    } catch (err) {
      this.options.logger.error(
        { event: 'notice_sink_error', source: this.options.source },
        `acting on a ${sourceNames[this.options.source]} notice failed: ${errorMessage(err)}`,
      );
    }
  }
}

/** A date from a cloud's text, or undefined when it is not one. */
export function parseDate(text: unknown): Date | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
