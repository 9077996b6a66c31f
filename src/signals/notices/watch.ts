/**
 * The one place that watches for preemption notices (SPEC §6.2): a detector
 * per resolved source, all reporting to one sink. With no detector resolved
 * it does nothing at all (no request, not even undici loaded).
 */
import type { Logger } from '../../log/logger.js';
import { AwsSpotNotices } from './aws.js';
import { AzureScheduledEvents } from './azure.js';
import { GcpPreemption } from './gcp.js';
import type { NoticeDetector, NoticeSink } from './notice.js';
import type { DetectorSettings } from './options.js';

export interface NoticeWatchContext {
  sink: NoticeSink;
  logger: Logger;
}

export function createDetector(settings: DetectorSettings, context: NoticeWatchContext): NoticeDetector {
  switch (settings.source) {
    case 'azure':
      return new AzureScheduledEvents({ url: settings.url, ignoredBecause: settings.ignoredBecause, ...context });
    case 'aws':
      return new AwsSpotNotices({ endpoint: settings.endpoint, ...context });
    case 'gcp':
      return new GcpPreemption({ endpoint: settings.endpoint, ...context });
  }
}

export class NoticeWatch {
  private readonly detectors: readonly { settings: DetectorSettings; detector: NoticeDetector }[];
  private stopped: Promise<void> | undefined;

  constructor(
    settings: readonly DetectorSettings[],
    private readonly context: NoticeWatchContext,
  ) {
    this.detectors = settings.map((one) => ({ settings: one, detector: createDetector(one, context) }));
  }

  start(): void {
    for (const { settings, detector } of this.detectors) {
      const where = settings.source === 'azure' ? settings.url : settings.endpoint;
      this.context.logger.info(
        { event: 'notice_watch', source: settings.source },
        `watching for ${settings.source} preemption notices at ${where} (${settings.because})`,
      );
      detector.start();
    }
  }

  /** Stops every detector, even if one fails to; their failures come back together. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      const results = await Promise.allSettled(this.detectors.map(({ detector }) => detector.stop()));
      const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
      if (errors.length > 0) throw new AggregateError(errors, 'stopping the preemption-notice detectors failed');
    })();
    return this.stopped;
  }
}
