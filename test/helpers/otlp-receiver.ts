/**
 * An OTLP/HTTP receiver on loopback, speaking the protocol as a collector
 * does for JSON: POST /v1/logs and /v1/metrics with `application/json`
 * bodies (ExportLogsServiceRequest, ExportMetricsServiceRequest), answered
 * 200 with an empty response message; any other content type 415, any
 * other path 404; and the first `refuse` requests of each signal 503 with
 * Retry-After (a collector under load), which a client must retry.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
export interface OtlpLogRecord {
  eventName?: string;
  severityText?: string;
  body?: OtlpValue;
  attributes?: OtlpAttribute[];
}
export interface OtlpDataPoint {
  attributes?: OtlpAttribute[];
  count?: string | number;
  asInt?: string | number;
  asDouble?: number;
}
export interface OtlpMetric {
  name: string;
  histogram?: { dataPoints: OtlpDataPoint[] };
  sum?: { dataPoints: OtlpDataPoint[] };
  gauge?: { dataPoints: OtlpDataPoint[] };
}
interface Resource {
  attributes?: OtlpAttribute[];
}

export interface OtlpReceiver {
  readonly url: string;
  /** Every log record received, with its resource's attributes. */
  readonly logs: Array<{ resource: Record<string, unknown>; record: OtlpLogRecord }>;
  readonly metrics: Array<{ resource: Record<string, unknown>; metric: OtlpMetric }>;
  /** Requests by path, refused ones included. */
  readonly requests: Map<string, number>;
  close(): Promise<void>;
}

/** An attribute list as an object of plain values. */
export function attributes(list: readonly OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map(({ key, value }) => [key, value.stringValue ?? value.doubleValue ?? value.boolValue ?? (value.intValue === undefined ? undefined : Number(value.intValue))]));
}

export async function startOtlpReceiver(options: { refuse?: number } = {}): Promise<OtlpReceiver> {
  const logs: OtlpReceiver['logs'] = [];
  const metrics: OtlpReceiver['metrics'] = [];
  const requests = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      const seen = (requests.get(path) ?? 0) + 1;
      requests.set(path, seen);
      if (request.method !== 'POST' || (path !== '/v1/logs' && path !== '/v1/metrics')) return void response.writeHead(404).end();
      if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return void response.writeHead(415).end();
      if (seen <= (options.refuse ?? 0)) return void response.writeHead(503, { 'retry-after': '0' }).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceLogs?: Array<{ resource?: Resource; scopeLogs?: Array<{ logRecords?: OtlpLogRecord[] }> }>;
        resourceMetrics?: Array<{ resource?: Resource; scopeMetrics?: Array<{ metrics?: OtlpMetric[] }> }>;
      };
      for (const r of body.resourceLogs ?? []) {
        for (const scope of r.scopeLogs ?? []) for (const record of scope.logRecords ?? []) logs.push({ resource: attributes(r.resource?.attributes), record });
      }
      for (const r of body.resourceMetrics ?? []) {
        for (const scope of r.scopeMetrics ?? []) for (const metric of scope.metrics ?? []) metrics.push({ resource: attributes(r.resource?.attributes), metric });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logs,
    metrics,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
