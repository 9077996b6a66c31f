/**
 * Azure Monitor's ingestion endpoint (Application Insights "Breeze") on
 * loopback, as the exporter speaks to it: over HTTPS (the exporter turns
 * any http:// endpoint into https://), with a certificate for 127.0.0.1
 * made here by openssl, which a client trusts through NODE_EXTRA_CA_CERTS
 * (`caFile`); POST /v2.1/track with a JSON
 * array of telemetry envelopes, gzip-compressed or not; each envelope must
 * carry the resource's instrumentation key. Answers as the service does:
 * 200 and `{itemsReceived, itemsAccepted, errors: []}` when all are taken,
 * 206 with an error (400) per envelope refused, 400 for a body that is not
 * an array of envelopes, 404 elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface Envelope {
  name: string;
  iKey: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: { message?: string; severityLevel?: string; properties?: Record<string, string> } };
}

export interface AzureMonitorIngestion {
  readonly instrumentationKey: string;
  /** The connection string a worker is given. */
  readonly connectionString: string;
  /** The server's self-signed certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  /** Envelopes accepted. */
  readonly envelopes: Envelope[];
  /** Envelopes refused (a wrong key). */
  readonly refused: Envelope[];
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1, written into `dir`. */
function certificate(dir: string): { key: Buffer; cert: Buffer; certFile: string } {
  const keyFile = path.join(dir, 'ingestion-key.pem');
  const certFile = path.join(dir, 'ingestion-cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { key: readFileSync(keyFile), cert: readFileSync(certFile), certFile };
}

/** Starts the endpoint; its certificate and key go into `dir`. */
export async function startAzureMonitorIngestion(dir: string): Promise<AzureMonitorIngestion> {
  const instrumentationKey = '2f1e6b7a-4c3d-4e5f-9a8b-7c6d5e4f3a2b';
  const { key, cert, certFile } = certificate(dir);
  const envelopes: Envelope[] = [];
  const refused: Envelope[] = [];
  const server = https.createServer({ key, cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v2.1/track') return void response.writeHead(404).end();
      let items: Envelope[];
      try {
        const raw = Buffer.concat(chunks);
        const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        items = JSON.parse(text) as Envelope[];
        if (!Array.isArray(items)) throw new Error('not an array');
      } catch {
        return void response.writeHead(400, { 'content-type': 'application/json' }).end('{"itemsReceived":0,"itemsAccepted":0,"errors":[]}');
      }
      const errors = items.flatMap((item, index) => {
        if (item.iKey === instrumentationKey) {
          envelopes.push(item);
          return [];
        }
        refused.push(item);
        return [{ index, statusCode: 400, message: 'Invalid instrumentation key' }];
      });
      const answer = { itemsReceived: items.length, itemsAccepted: items.length - errors.length, errors };
      response.writeHead(errors.length === 0 ? 200 : 206, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    instrumentationKey,
    connectionString: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=${url}`,
    caFile: certFile,
    envelopes,
    refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
