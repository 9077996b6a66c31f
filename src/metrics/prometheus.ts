/**
 * Prometheus `/metrics` for one worker, with prom-client, on its own small
 * HTTP server. Counters and the duration histogram follow the attempts as
 * the history records them (so their counts match `jobq history`); gauges
 * are read when Prometheus scrapes, the queue's depth through the sampler.
 * Only jobq's metrics: prom-client's default process metrics would start an
 * event-loop monitor that wakes an idle worker a hundred times a second.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { attemptOutcomes, type WorkerPhase } from '../backends/fleet.js';
import { UsageError, errorMessage } from '../errors.js';
import { durationBuckets, type TelemetrySink, type TelemetrySource } from './source.js';

const phases: readonly WorkerPhase[] = ['running', 'draining', 'braced', 'stopping', 'stopped'];

export interface PrometheusSink extends TelemetrySink {
  /** The URL of `/metrics` (with the port it got). */
  readonly url: string;
}

function registry(source: TelemetrySource): { registry: Registry; sink: Pick<TelemetrySink, 'attempt' | 'event'> } {
  const register = new Registry();
  register.setDefaultLabels({ queue: source.queue, worker_id: source.workerId, ...(source.environment !== null && { environment: source.environment }) });
  const registers = [register];
  const tasks = new Counter({ name: 'jobq_tasks_total', help: 'Finished attempts by outcome, as the history records them.', labelNames: ['outcome'], registers });
  for (const outcome of attemptOutcomes) tasks.inc({ outcome }, 0);
  const duration = new Histogram({
    name: 'jobq_task_duration_seconds',
    help: 'How long attempts ran, by outcome.',
    labelNames: ['outcome'],
    buckets: durationBuckets,
    registers,
  });
  const preemptions = new Counter({ name: 'jobq_preemptions_total', help: 'Preemption notices heard, by source.', labelNames: ['source'], registers });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read()); } });
  gauge('jobq_running_tasks', 'Tasks running now.', () => source.running());
  gauge('jobq_slots', 'Task slots of the worker.', () => source.slots);
  gauge('jobq_leases_held', 'Leases held: running tasks and those leased ahead.', () => source.leasesHeld());
  gauge('jobq_preempted', '1 while a preemption notice stands or the worker braces for one.', () => (source.preempted() ? 1 : 0));
  new Gauge({
    name: 'jobq_worker_phase',
    help: 'The phase the worker is in (1) and those it is not (0).',
    labelNames: ['phase'],
    registers,
    collect() {
      for (const phase of phases) this.set({ phase }, source.phase() === phase ? 1 : 0);
    },
  });
  const depthGauge = (name: string, help: string, pick: (d: { size: number; deadLetters: number }) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const depth = await source.depth();
        if (depth) this.set(pick(depth));
      },
    });
  depthGauge('jobq_queue_depth', 'Tasks in the queue, leased ones included (sampled at most every 10 s).', (d) => d.size);
  depthGauge('jobq_dead_letters', 'Records in the dead-letter queue (sampled at most every 10 s).', (d) => d.deadLetters);
  return {
    registry: register,
    sink: {
      attempt(a) {
        tasks.inc({ outcome: a.outcome });
        duration.observe({ outcome: a.outcome }, a.durationMs / 1000);
      },
      event(_level, fields) {
        if (fields.event === 'preemption_detected') preemptions.inc({ source: String(fields['source']) });
      },
    },
  };
}

/** Serves `/metrics` on host:port; rejects with a UsageError when it cannot listen there. */
export async function startPrometheus(source: TelemetrySource, host: string, port: number): Promise<PrometheusSink> {
  const { registry: register, sink } = registry(source);
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    register.metrics().then(
      (text) => response.writeHead(200, { 'content-type': register.contentType }).end(text),
      (err: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(errorMessage(err)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new UsageError(`cannot serve metrics on ${host}:${port}: ${errorMessage(err)}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    ...sink,
    url: `http://${shown}:${(server.address() as AddressInfo).port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
