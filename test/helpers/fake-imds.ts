/**
 * A stand-in for the AWS EC2 instance metadata service with IMDSv2 required,
 * as AWS documents it and its own mock (amazon-ec2-metadata-mock) behaves: a
 * session token from `PUT /latest/api/token` with
 * `X-aws-ec2-metadata-token-ttl-seconds` (1–21600; otherwise 400), refused
 * with 403 when the PUT carries X-Forwarded-For; every GET without a token,
 * with an unknown one or with one past its TTL gets 401. The spot
 * instance-action and the rebalance recommendation are 404 until a test
 * announces them, then JSON served as text/plain.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FakeMetadataServer } from './fake-metadata-server.js';

export const imdsPaths = {
  token: '/latest/api/token',
  instanceAction: '/latest/meta-data/spot/instance-action',
  rebalance: '/latest/meta-data/events/recommendations/rebalance',
} as const;

const page = (status: string): string =>
  `<?xml version="1.0" encoding="iso-8859-1"?>\n` +
  `<html><head><title>${status}</title></head><body><h1>${status}</h1></body></html>`;

export class FakeImds extends FakeMetadataServer {
  /** Tokens handed out, and GETs refused for want of a valid one. */
  tokensIssued = 0;
  unauthorized = 0;
  private readonly tokens = new Map<string, number>(); // token → expiry, ms since the epoch
  private instanceAction: { action: string; time: string } | undefined;
  private rebalance: { noticeTime: string } | undefined;

  /** Announces a spot interruption; a Date is written as AWS writes it (`2026-01-01T00:00:00Z`). */
  interrupt(action: 'terminate' | 'stop' | 'hibernate', time: Date | string): void {
    this.instanceAction = { action, time: typeof time === 'string' ? time : awsTime(time) };
  }

  cancelInterruption(): void {
    this.instanceAction = undefined;
  }

  recommendRebalance(noticeTime: Date): void {
    this.rebalance = { noticeTime: awsTime(noticeTime) };
  }

  withdrawRebalance(): void {
    this.rebalance = undefined;
  }

  /** Forgets every token, as after a restart of the service: the next GET with one gets 401. */
  forgetTokens(): void {
    this.tokens.clear();
  }

  protected handle(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (url.pathname === imdsPaths.token) {
      this.issueToken(request, response);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'text/html' }).end(page('405 - Method Not Allowed'));
      return;
    }
    const token = request.headers['x-aws-ec2-metadata-token'];
    const expiry = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (expiry === undefined || Date.now() >= expiry) {
      if (typeof token === 'string') this.tokens.delete(token);
      this.unauthorized += 1;
      response.writeHead(401, { 'content-type': 'text/html' }).end(page('401 - Unauthorized'));
      return;
    }
    const items: Record<string, object | undefined> = {
      [imdsPaths.instanceAction]: this.instanceAction,
      [imdsPaths.rebalance]: this.rebalance,
    };
    const item = items[url.pathname];
    if (item === undefined) {
      response.writeHead(404, { 'content-type': 'text/html' }).end(page('404 - Not Found'));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end(JSON.stringify(item));
  }

  private issueToken(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'PUT') {
      response.writeHead(405, { 'content-type': 'text/html' }).end(page('405 - Method Not Allowed'));
      return;
    }
    if (request.headers['x-forwarded-for'] !== undefined) {
      response.writeHead(403, { 'content-type': 'text/html' }).end(page('403 - Forbidden'));
      return;
    }
    const asked = request.headers['x-aws-ec2-metadata-token-ttl-seconds'];
    const ttl = typeof asked === 'string' && /^\d+$/.test(asked) ? Number(asked) : 0;
    if (ttl < 1 || ttl > 21_600) {
      response.writeHead(400, { 'content-type': 'text/html' }).end(page('400 - Bad Request'));
      return;
    }
    const token = randomBytes(32).toString('base64');
    this.tokens.set(token, Date.now() + ttl * 1000);
    this.tokensIssued += 1;
    response.writeHead(200, { 'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) }).end(token);
  }
}

/** A time as IMDS writes it: ISO 8601 to the second. */
function awsTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
