/**
 * The options of a worker's metrics and telemetry (none by default), in
 * three layers as the worker's others: given < environment < defaults.
 * Nothing of it is loaded unless one is asked for (src/api/worker.ts imports
 * src/metrics/telemetry.ts only then), so a plain worker starts no slower.
 */
import { UsageError } from '../errors.js';
import type { JobqEnvironment } from '../options/environment.js';
import { integerOption } from '../options/validate.js';

export interface MetricsOptions {
  /** Serve Prometheus `/metrics` on this port; 0: any free port (default JOBQ_METRICS_PORT, else none). */
  metricsPort?: number;
  /** The address `/metrics` listens on (default 127.0.0.1; 0.0.0.0 for a scraper on another machine). */
  metricsHost?: string;
  /** Send metrics and task events over OTLP/HTTP (JSON) to this base URL (default OTEL_EXPORTER_OTLP_ENDPOINT, else none). */
  otlpEndpoint?: string;
  /** Send task events to Azure Monitor with this connection string (default APPLICATIONINSIGHTS_CONNECTION_STRING, else none). */
  azureMonitorConnectionString?: string;
}

export interface ResolvedMetricsOptions {
  readonly metricsPort: number | null;
  readonly metricsHost: string;
  readonly otlpEndpoint: string | null;
  readonly azureMonitorConnectionString: string | null;
}

export function resolveMetricsOptions(options: MetricsOptions, environment: JobqEnvironment): ResolvedMetricsOptions {
  const port = options.metricsPort ?? environment.metricsPort;
  const otlp = options.otlpEndpoint ?? environment.otlpEndpoint;
  if (otlp !== undefined && !/^https?:\/\/[^/\s]+/.test(otlp)) throw new UsageError(`the OTLP endpoint must be an http(s) URL, got "${otlp}"`);
  return {
    metricsPort: port === undefined ? null : integerOption(port, 'metricsPort', 0, 65_535),
    metricsHost: options.metricsHost ?? '127.0.0.1',
    otlpEndpoint: otlp?.replace(/\/+$/, '') ?? null,
    azureMonitorConnectionString: options.azureMonitorConnectionString ?? environment.azureMonitorConnectionString ?? null,
  };
}

/** Whether any metrics or telemetry are asked for. */
export function telemetryWanted(options: ResolvedMetricsOptions): boolean {
  return options.metricsPort !== null || options.otlpEndpoint !== null || options.azureMonitorConnectionString !== null;
}
