/**
 * A worker's telemetry: the exporters its options ask for (Prometheus
 * `/metrics`, OTLP, Azure Monitor), each module loaded only when asked for,
 * fed the same attempts and events. Loaded by src/api/worker.ts only when
 * one is asked for. A failing exporter is reported to `onError` (the worker
 * logs it once) and never reaches the worker. The queue's depth is read
 * through a sampler: at most once every 10 s, whoever asks.
 */
import { runCleanups } from '../cleanup.js';
import type { AttemptRecord } from '../backends/fleet.js';
import type { EventLevel, WorkerEventFields } from '../worker/worker-events.js';
import type { ResolvedMetricsOptions } from './options.js';
import { DepthSampler, type TelemetrySink, type TelemetrySource } from './source.js';

export interface Telemetry extends TelemetrySink {
  /** Where Prometheus scrapes, when it is served. */
  readonly metricsUrl: string | undefined;
}

export async function startTelemetry(
  source: TelemetrySource,
  options: ResolvedMetricsOptions,
  onError: (err: unknown) => void,
): Promise<Telemetry> {
  const sampler = new DepthSampler(() => source.depth().then((depth) => depth ?? { size: 0, deadLetters: 0 }));
  const sampled: TelemetrySource = { ...source, depth: () => sampler.get() };
  const sinks: Array<{ name: string; sink: TelemetrySink }> = [];
  let metricsUrl: string | undefined;
  try {
    if (options.metricsPort !== null) {
      const { startPrometheus } = await import('./prometheus.js');
      const prometheus = await startPrometheus(sampled, options.metricsHost, options.metricsPort);
      metricsUrl = prometheus.url;
      sinks.push({ name: 'Prometheus', sink: prometheus });
    }
    if (options.otlpEndpoint !== null) sinks.push({ name: 'OTLP', sink: (await import('./otlp.js')).startOtlp(sampled, options.otlpEndpoint) });
    if (options.azureMonitorConnectionString !== null) {
      const { startAzureMonitor } = await import('./azure-monitor.js');
      sinks.push({ name: 'Azure Monitor', sink: startAzureMonitor(sampled, options.azureMonitorConnectionString) });
    }
  } catch (err) {
    await Promise.allSettled(sinks.map(({ sink }) => sink.close()));
    throw err;
  }
  const each = (call: (sink: TelemetrySink) => void): void => {
    for (const { sink } of sinks) {
      try {
        call(sink);
      } catch (err) {
        onError(err);
      }
    }
  };
  return {
    metricsUrl,
    attempt: (a: AttemptRecord) => each((sink) => sink.attempt(a)),
    event: (level: EventLevel, fields: WorkerEventFields, message: string) => each((sink) => sink.event(level, fields, message)),
    close: () => runCleanups(sinks.map(({ name, sink }) => ({ name, run: () => sink.close() })), 'sending the last telemetry'),
  };
}
