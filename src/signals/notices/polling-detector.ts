/**
 * What the detectors that poll their metadata service once a round (Azure,
 * AWS) share: an HTTP client, the reporter of notices, the failure log and
 * the poll loop, and an idempotent stop that closes the client. A subclass
 * gives its source and its `poll` (which returns the wait before the next round).
 */
import { FailureLog } from './failure-log.js';
import { MetadataClient } from './metadata-http.js';
import type { NoticeDetector, NoticeSink, NoticeSource } from './notice.js';
import { PollLoop } from './poll-loop.js';
import { NoticeReporter } from './reporter.js';
import type { Logger } from '../../log/logger.js';

export interface PollingDetectorOptions {
  /** Between polls, ms (default 1 s). */
  intervalMs?: number;
  sink: NoticeSink;
  logger: Logger;
}

export abstract class PollingDetector implements NoticeDetector {
  abstract readonly source: NoticeSource;
  protected readonly http = new MetadataClient();
  protected readonly reporter: NoticeReporter;
  protected readonly failures: FailureLog;
  private readonly loop: PollLoop;
  private stopped: Promise<void> | undefined;

  constructor(source: NoticeSource, what: string, private readonly settings: PollingDetectorOptions) {
    this.reporter = new NoticeReporter({ source, ...settings });
    this.failures = new FailureLog(settings.logger, source, what);
    this.loop = new PollLoop({
      round: (signal) => this.poll(signal),
      onUnexpected: (err) => this.failures.failed(err),
      retryDelayMs: this.intervalMs,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    this.stopped ??= this.loop.stop().then(() => this.http.close());
    return this.stopped;
  }

  protected get intervalMs(): number {
    return this.settings.intervalMs ?? 1_000;
  }

  /** One round; resolves with the wait before the next, ms. */
  protected abstract poll(signal: AbortSignal): Promise<number>;
}
