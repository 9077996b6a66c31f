/**
 * The worker's events as OpenTelemetry log records, for any log exporter
 * (OTLP, Azure Monitor): the message as the body, the event's name, its
 * fields and the worker's dimensions as attributes — `queue`, `worker_id`,
 * `environment` (JOBQ_ENVIRONMENT_NAME) and `host`, as ai4s-jobq names its
 * custom dimensions. A task's command and error go through the redaction
 * rule (src/fleet/redact.ts) on the way out. Records are sent in batches
 * (a timer runs only while some are pending); `close` sends what is left.
 */
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { redactCommand, redactText } from '../fleet/redact.js';
import type { EventLevel } from '../worker/worker-events.js';
import type { TelemetrySink, TelemetrySource } from './source.js';

type Attribute = string | number | boolean;

const severity: Record<EventLevel, SeverityNumber> = { info: SeverityNumber.INFO, warn: SeverityNumber.WARN, error: SeverityNumber.ERROR };

/** The service the worker is to a telemetry backend (Azure Monitor: cloud role and role instance). */
export function workerResource(source: TelemetrySource): Resource {
  return resourceFromAttributes({
    'service.name': 'jobq',
    'service.version': source.version,
    'service.instance.id': source.workerId,
    'host.name': source.host,
    ...(source.environment !== null && { 'deployment.environment.name': source.environment }),
  });
}

/** The dimensions on every record. */
export function dimensions(source: TelemetrySource): Record<string, string> {
  return {
    queue: source.queue,
    worker_id: source.workerId,
    host: source.host,
    ...(source.environment !== null && { environment: source.environment }),
  };
}

function attributeOf(name: string, value: unknown): Attribute | undefined {
  if (value === null || value === undefined) return undefined;
  if (name === 'command' && typeof value === 'string') return redactCommand(value);
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return redactText(JSON.stringify(value));
}

/** Sends the worker's events as log records through `exporter`. */
export function eventLogSink(source: TelemetrySource, exporter: LogRecordExporter, resource: Resource): TelemetrySink {
  const provider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor(exporter)] });
  const logger = provider.getLogger('jobq', source.version);
  const base = dimensions(source);
  return {
    attempt() {
      // events carry the attempts already (task_success, task_give_up, …)
    },
    event(level, fields, message) {
      const attributes: Record<string, Attribute> = { ...base };
      for (const [name, value] of Object.entries(fields)) {
        const attribute = attributeOf(name, value);
        if (attribute !== undefined) attributes[name] = attribute;
      }
      logger.emit({ eventName: fields.event, severityNumber: severity[level], severityText: level.toUpperCase(), body: redactText(message), attributes });
    },
    close: () => provider.shutdown(),
  };
}
