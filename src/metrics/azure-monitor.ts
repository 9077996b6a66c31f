/**
 * The worker's events to Azure Monitor (Application Insights), as ai4s-jobq
 * sends its log records: traces whose custom dimensions are the event's
 * fields with `queue`, `worker_id`, `environment` (JOBQ_ENVIRONMENT_NAME)
 * and `host`; the cloud role is `jobq`, the role instance the worker id.
 * Through Microsoft's OpenTelemetry exporter for Azure Monitor. Two of its
 * defaults are turned off: Statsbeat (the SDK's own usage, sent to
 * Microsoft rather than to the user's resource; APPLICATION_INSIGHTS_NO_STATSBEAT
 * and APPLICATIONINSIGHTS_SDKSTATS_DISABLED are set in this process when unset)
 * and offline storage (a worker on a machine that is taken back does not
 * come back to send what it stored).
 */
import { AzureMonitorLogExporter } from '@azure/monitor-opentelemetry-exporter';
import { eventLogSink, workerResource } from './event-logs.js';
import type { TelemetrySink, TelemetrySource } from './source.js';

export function startAzureMonitor(source: TelemetrySource, connectionString: string): TelemetrySink {
  // The exporter reads these when it is made; a value the user set is kept.
  process.env['APPLICATION_INSIGHTS_NO_STATSBEAT'] ??= 'true';
  process.env['APPLICATIONINSIGHTS_SDKSTATS_DISABLED'] ??= 'true';
  const exporter = new AzureMonitorLogExporter({ connectionString, disableOfflineStorage: true });
  return eventLogSink(source, exporter, workerResource(source));
}
