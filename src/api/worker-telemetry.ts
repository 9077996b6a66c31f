/**
 * A worker's metrics and telemetry (src/metrics/) while it runs: started
 * only when its options ask for some — the metric libraries load then, and
 * not before — fed the worker's attempts and events, and stopped when it
 * ends, sending what is pending. Failures are logged (a warning once, then
 * at debug) and never stop the worker.
 */
import type { AttemptRecord } from '../backends/fleet.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { telemetryWanted, type ResolvedMetricsOptions } from '../metrics/options.js';
import type { TelemetrySource } from '../metrics/source.js';
import type { Telemetry } from '../metrics/telemetry.js';
import type { WorkerEventListener } from '../worker/worker-events.js';

export class WorkerTelemetry {
  /** Whether any is asked for. */
  readonly wanted: boolean;
  private telemetry: Telemetry | undefined;
  private warned = false;

  constructor(
    private readonly options: ResolvedMetricsOptions,
    private readonly logger: Logger,
  ) {
    this.wanted = telemetryWanted(options);
  }

  /** Hears the worker's events (nothing happens before `start` or after `stop`). */
  readonly events: WorkerEventListener = (level, fields, message) => this.telemetry?.event(level, fields, message);

  /** Hears each attempt as it ends. */
  readonly attempt = (attempt: AttemptRecord): void => this.telemetry?.attempt(attempt);

  /** Starts what is asked for; resolves with the URL of Prometheus's `/metrics` when it is served. */
  async start(source: TelemetrySource): Promise<string | undefined> {
    if (!this.wanted) return undefined;
    const { startTelemetry } = await import('../metrics/telemetry.js');
    this.telemetry = await startTelemetry(source, this.options, (err) => this.failed(`telemetry failed: ${errorMessage(err)}`));
    return this.telemetry.metricsUrl;
  }

  /** Sends the last telemetry and stops; a failure is logged, never thrown (the work is done). */
  async stop(): Promise<void> {
    const telemetry = this.telemetry;
    this.telemetry = undefined;
    await telemetry?.close().catch((err: unknown) => this.failed(`the last telemetry was not sent: ${errorMessage(err)}`));
  }

  private failed(message: string): void {
    const fields = { event: 'telemetry_failed' };
    if (this.warned) this.logger.debug(fields, message);
    else this.logger.warn(fields, `${message}; the worker goes on (said once)`);
    this.warned = true;
  }
}
