/**
 * GCP spot and preemptible VMs: long polls of the metadata server (header
 * `Metadata-Flavor: Google`), so nothing is polled while nothing changes.
 * Each watched value is read once, then asked for again with
 * `wait_for_change=true&last_etag=ETAG&timeout_sec=N`: the server answers as
 * soon as the value differs from that version (so no change between two
 * requests is missed) or after N seconds with the value unchanged.
 *
 * `instance/preempted` turning `TRUE` is a notice with a deadline 30 s after
 * it was seen (GCP's notice period); `instance/maintenance-event` is logged
 * when it is anything but `NONE`. An answer without `Metadata-Flavor: Google`
 * or without an ETag is not from a metadata server and counts as a failure.
 */
import type { Logger } from '../../log/logger.js';
import { FailureLog } from './failure-log.js';
import { MetadataClient } from './metadata-http.js';
import type { NoticeDetector, NoticeSink } from './notice.js';
import { PollLoop } from './poll-loop.js';
import { NoticeReporter } from './reporter.js';

const preemptedPath = '/computeMetadata/v1/instance/preempted';
const maintenancePath = '/computeMetadata/v1/instance/maintenance-event';
/** GCP's notice period for a preemption. */
const preemptionNoticeMs = 30_000;

export interface GcpPreemptionOptions {
  /** The metadata server, e.g. `http://metadata.google.internal`. */
  endpoint: string;
  /** How long the server may hold a request before answering with the value unchanged, s (default 60). */
  waitSeconds?: number;
  /** How long an answer may take past that (or at all, for a request that is not held), ms (default 5 s). */
  requestTimeoutMs?: number;
  /** The pause after a failed request, or after an answer that came back at once unchanged, ms (default 1 s). */
  retryDelayMs?: number;
  sink: NoticeSink;
  logger: Logger;
}

export class GcpPreemption implements NoticeDetector {
  readonly source = 'gcp';
  private readonly http = new MetadataClient();
  private stopped: Promise<void> | undefined;
  private readonly reporter: NoticeReporter;
  private readonly watches: readonly MetadataValueWatch[];
  private maintenance = 'NONE';

  constructor(private readonly options: GcpPreemptionOptions) {
    this.reporter = new NoticeReporter({ source: 'gcp', ...options });
    this.watches = [
      new MetadataValueWatch(this.http, preemptedPath, options, (value, seenAt) => this.preempted(value, seenAt)),
      new MetadataValueWatch(this.http, maintenancePath, options, (value) => this.maintenanceEvent(value)),
    ];
  }

  start(): void {
    for (const watch of this.watches) watch.start();
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(this.watches.map((watch) => watch.stop()));
      await this.http.close();
    })();
    return this.stopped;
  }

  private preempted(value: string, seenAt: number): void {
    if (value === 'FALSE') {
      this.reporter.report(undefined);
    } else if (value === 'TRUE') {
      if (this.reporter.notice) return; // still the same preemption: its deadline stands
      this.reporter.report({
        source: 'gcp',
        deadline: new Date(seenAt + preemptionNoticeMs),
        detail: 'instance/preempted is TRUE (GCP gives a preempted VM 30 s)',
      });
    } else {
      throw new Error(`instance/preempted is neither TRUE nor FALSE: ${JSON.stringify(value.slice(0, 100))}`);
    }
  }

  private maintenanceEvent(value: string): void {
    if (value === this.maintenance) return;
    const previous = this.maintenance;
    this.maintenance = value;
    if (value === 'NONE') {
      this.options.logger.info({ event: 'maintenance_event', source: 'gcp', value }, `GCP maintenance event ${previous} is over`);
    } else {
      this.options.logger.warn(
        { event: 'maintenance_event', source: 'gcp', value },
        `GCP maintenance event: ${value.slice(0, 200)} (a host maintenance is coming)`,
      );
    }
  }
}

/** One value of the metadata server, read and then long-polled for changes until stopped. */
class MetadataValueWatch {
  private readonly loop: PollLoop;
  private readonly failures: FailureLog;
  private etag: string | undefined;

  constructor(
    private readonly http: MetadataClient,
    private readonly path: string,
    private readonly options: GcpPreemptionOptions,
    private readonly onValue: (value: string, seenAt: number) => void,
  ) {
    this.failures = new FailureLog(options.logger, 'gcp', `GCP ${path.replace('/computeMetadata/v1/', '')}`);
    this.loop = new PollLoop({
      round: (signal) => this.round(signal),
      onUnexpected: (err) => this.failures.failed(err),
      retryDelayMs: this.retryDelayMs,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private get retryDelayMs(): number {
    return this.options.retryDelayMs ?? 1_000;
  }

  private async round(signal: AbortSignal): Promise<number> {
    const waitSeconds = this.options.waitSeconds ?? 60;
    const requestTimeoutMs = this.options.requestTimeoutMs ?? 5_000;
    const previous = this.etag;
    const url = new URL(this.path, this.options.endpoint);
    if (previous !== undefined) {
      const query = { wait_for_change: 'true', last_etag: previous, timeout_sec: String(waitSeconds) };
      url.search = new URLSearchParams(query).toString();
    }
    const askedAt = Date.now();
    try {
      const response = await this.http.request(url.href, {
        headers: { 'Metadata-Flavor': 'Google' },
        timeoutMs: previous === undefined ? requestTimeoutMs : waitSeconds * 1000 + requestTimeoutMs,
        signal,
      });
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
      if (response.header('metadata-flavor') !== 'Google') throw new Error('the answer is not from a GCE metadata server');
      const etag = response.header('etag');
      if (!etag) throw new Error('the answer has no ETag');
      this.onValue(response.body.trim(), Date.now());
      this.etag = etag;
      this.failures.succeeded();
    } catch (err) {
      if (signal.aborted) return 0;
      this.failures.failed(err);
      return this.retryDelayMs;
    }
    // A held request that came back at once with nothing new is a server not holding it: no busy loop.
    const unchangedAtOnce = previous !== undefined && this.etag === previous && Date.now() - askedAt < 1_000;
    return unchangedAtOnce ? this.retryDelayMs : 0;
  }
}
