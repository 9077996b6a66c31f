/**
 * The events a worker logs with an `event` field (SPEC §9: task_start,
 * task_success, …, preemption_detected, worker_heartbeat), heard also by
 * whoever else wants them whatever the log level: the worker's telemetry
 * (OTLP, Azure Monitor). `emitEvent` logs the event, then tells the listener;
 * a listener that throws is its own problem, never the worker's.
 */
import type { Logger } from '../log/logger.js';

export type EventLevel = 'info' | 'warn' | 'error';

/** An event's fields as logged: `event` names it. */
export interface WorkerEventFields {
  readonly event: string;
  readonly [field: string]: unknown;
}

/** Hears each event as it is logged. */
export type WorkerEventListener = (level: EventLevel, fields: WorkerEventFields, message: string) => void;

/** Logs an event and hands it to `listener`, whose failures are dropped (it reports them itself). */
export function emitEvent(
  logger: Logger,
  listener: WorkerEventListener | undefined,
  level: EventLevel,
  fields: WorkerEventFields,
  message: string,
): void {
  logger[level](fields, message);
  if (!listener) return;
  try {
    listener(level, fields, message);
  } catch {
    // the listener logs its own failures (src/metrics/telemetry.ts)
  }
}
