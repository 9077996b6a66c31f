/**
 * The worker's metrics and events over OTLP/HTTP (JSON) with the
 * OpenTelemetry SDK, to `endpoint` + `/v1/metrics` and `/v1/logs` (as
 * OTEL_EXPORTER_OTLP_ENDPOINT means it; OTEL_EXPORTER_OTLP_HEADERS and the
 * SDK's other variables apply). Names follow OpenTelemetry's messaging
 * conventions where they have one: `messaging.process.duration` (seconds,
 * with `messaging.system` jobq, `messaging.destination.name` the queue,
 * `messaging.operation.name` process, `error.type` on failures); jobq's own
 * are `jobq.tasks` (by `jobq.outcome`), `jobq.tasks.running`, `jobq.slots`,
 * `jobq.leases.held`, `jobq.queue.depth`, `jobq.queue.dead_letters`,
 * `jobq.preempted`. Metrics go out every 60 s and when the worker stops;
 * events in batches, within seconds.
 */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { failedOutcomes } from '../backends/fleet.js';
import { dimensions, eventLogSink, workerResource } from './event-logs.js';
import { durationBuckets, type TelemetrySink, type TelemetrySource } from './source.js';

const exportIntervalMs = 60_000;

export function startOtlp(source: TelemetrySource, endpoint: string): TelemetrySink {
  const resource = workerResource(source);
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
    exportIntervalMillis: exportIntervalMs,
  });
  const meterProvider = new MeterProvider({ resource, readers: [reader] });
  const meter = meterProvider.getMeter('jobq', source.version);
  const base = dimensions(source);
  const messaging = { 'messaging.system': 'jobq', 'messaging.destination.name': source.queue, 'messaging.operation.name': 'process', 'messaging.operation.type': 'process' };
  const duration = meter.createHistogram('messaging.process.duration', {
    unit: 's',
    description: 'How long attempts of tasks ran.',
    advice: { explicitBucketBoundaries: durationBuckets },
  });
  const tasks = meter.createCounter('jobq.tasks', { description: 'Finished attempts by outcome, as the history records them.' });
  const preemptions = meter.createCounter('jobq.preemptions', { description: 'Preemption notices heard, by source.' });
  const gauge = (name: string, description: string, read: () => number | undefined | Promise<number | undefined>) =>
    meter.createObservableGauge(name, { description }).addCallback(async (result) => {
      const value = await read();
      if (value !== undefined) result.observe(value, base);
    });
  gauge('jobq.tasks.running', 'Tasks running now.', () => source.running());
  gauge('jobq.slots', 'Task slots of the worker.', () => source.slots);
  gauge('jobq.leases.held', 'Leases held: running tasks and those leased ahead.', () => source.leasesHeld());
  gauge('jobq.preempted', '1 while a preemption notice stands or the worker braces for one.', () => (source.preempted() ? 1 : 0));
  gauge('jobq.queue.depth', 'Tasks in the queue, leased ones included (sampled).', async () => (await source.depth())?.size);
  gauge('jobq.queue.dead_letters', 'Records in the dead-letter queue (sampled).', async () => (await source.depth())?.deadLetters);
  const events = eventLogSink(source, new OTLPLogExporter({ url: `${endpoint}/v1/logs` }), resource);
  return {
    attempt(a) {
      const failed = failedOutcomes.includes(a.outcome);
      duration.record(a.durationMs / 1000, { ...base, ...messaging, 'jobq.outcome': a.outcome, ...(failed && { 'error.type': 'task_failed' }) });
      tasks.add(1, { ...base, 'jobq.outcome': a.outcome });
    },
    event(level, fields, message) {
      if (fields.event === 'preemption_detected') preemptions.add(1, { ...base, source: String(fields['source']) });
      events.event(level, fields, message);
    },
    async close() {
      const results = await Promise.allSettled([meterProvider.shutdown(), events.close()]);
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failed.length > 0) throw new AggregateError(failed, 'sending the last telemetry over OTLP failed');
    },
  };
}
