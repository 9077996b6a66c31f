/**
 * AWS EC2 spot notices through IMDSv2: every second, with a session token
 * (PUT /latest/api/token with the TTL header; renewed at half its life, and
 * at once when the service refuses it with 401), it reads
 * `/latest/meta-data/spot/instance-action` (404: no notice; otherwise
 * `{"action", "time"}`, `time` being the deadline) and
 * `/latest/meta-data/events/recommendations/rebalance` (404: none;
 * otherwise `{"noticeTime"}`), an early warning that is logged and reported
 * to the sink's `rebalance` once per recommendation.
 */
import type { MetadataResponse } from './metadata-http.js';
import type { PreemptionNotice } from './notice.js';
import { PollingDetector, type PollingDetectorOptions } from './polling-detector.js';
import { parseDate } from './reporter.js';

const tokenPath = '/latest/api/token';
const instanceActionPath = '/latest/meta-data/spot/instance-action';
const rebalancePath = '/latest/meta-data/events/recommendations/rebalance';
const ttlHeader = 'x-aws-ec2-metadata-token-ttl-seconds';
const tokenHeader = 'x-aws-ec2-metadata-token';
/** The notice AWS gives a spot instance, used when the notice's time cannot be read. */
const spotNoticeMs = 120_000;

export interface AwsSpotNoticesOptions extends PollingDetectorOptions {
  /** The instance metadata service, e.g. `http://169.254.169.254`. */
  endpoint: string;
  /** Longest wait for one answer, ms (default 3 s). */
  requestTimeoutMs?: number;
  /** Lifetime asked for each session token, s (default 21600, the longest IMDS grants). */
  tokenTtlSeconds?: number;
}

interface SessionToken {
  value: string;
  /** When to ask for the next one (half its life after it was asked for), ms since the epoch. */
  renewAt: number;
}

export class AwsSpotNotices extends PollingDetector {
  readonly source = 'aws';
  private token: SessionToken | undefined;
  /** The notice time of the rebalance recommendation that stands, if one does. */
  private rebalanceTime: string | undefined;
  /** When the instance-action in force was first seen: the deadline when its time cannot be read. */
  private actionSeenAt: number | undefined;

  constructor(private readonly options: AwsSpotNoticesOptions) {
    super('aws', 'AWS spot notices (IMDSv2)', options);
  }

  protected async poll(signal: AbortSignal): Promise<number> {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<void>): Promise<void> => {
      try {
        await step();
      } catch (err) {
        failures.push(err);
      }
    };
    await attempt(async () => void (await this.session(signal)));
    if (failures.length === 0) {
      // Each read on its own: a failed one neither hides nor withdraws what the other says.
      await attempt(async () => this.reporter.report(this.instanceAction(await this.read(instanceActionPath, signal))));
      await attempt(async () => this.rebalance(await this.read(rebalancePath, signal)));
    }
    if (signal.aborted) return 0;
    if (failures.length > 0) this.failures.failed(failures[0]);
    else this.failures.succeeded();
    return this.intervalMs;
  }

  /** A metadata item (undefined on 404); a token the service refuses is replaced once. */
  private async read(path: string, signal: AbortSignal): Promise<unknown> {
    let response = await this.get(path, await this.session(signal), signal);
    if (response.status === 401) {
      this.token = undefined;
      response = await this.get(path, await this.session(signal), signal);
    }
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
    try {
      return JSON.parse(response.body) as unknown;
    } catch {
      throw new Error(`${path}: the answer is not JSON`);
    }
  }

  private get(path: string, token: string, signal: AbortSignal): Promise<MetadataResponse> {
    return this.http.request(new URL(path, this.options.endpoint).href, {
      headers: { [tokenHeader]: token },
      timeoutMs: this.options.requestTimeoutMs ?? 3_000,
      signal,
    });
  }

  /** The session token, asked for anew when it is half way through its life. */
  private async session(signal: AbortSignal): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    const askedAt = Date.now();
    const ttl = this.options.tokenTtlSeconds ?? 21_600;
    const response = await this.http.request(new URL(tokenPath, this.options.endpoint).href, {
      method: 'PUT',
      headers: { [ttlHeader]: String(ttl) },
      timeoutMs: this.options.requestTimeoutMs ?? 3_000,
      signal,
    });
    const value = response.body.trim();
    if (response.status !== 200) throw new Error(`${tokenPath}: HTTP ${response.status}`);
    if (!/^[\x21-\x7e]{1,1024}$/.test(value)) throw new Error(`${tokenPath}: the answer is not a token`);
    const granted = Number(response.header(ttlHeader));
    const lifeSeconds = Number.isFinite(granted) && granted > 0 ? Math.min(granted, ttl) : ttl;
    this.token = { value, renewAt: askedAt + (lifeSeconds * 1000) / 2 };
    return value;
  }

  private instanceAction(document: unknown): PreemptionNotice | undefined {
    if (document === undefined) {
      this.actionSeenAt = undefined;
      return undefined;
    }
    const { action, time } = fields(document, instanceActionPath, ['action', 'time']);
    this.actionSeenAt ??= Date.now();
    return {
      source: 'aws',
      deadline: parseDate(time) ?? new Date(this.actionSeenAt + spotNoticeMs),
      detail: `spot instance-action ${action ?? '?'} at ${time ?? '?'}`,
    };
  }

  private rebalance(document: unknown): void {
    if (document === undefined) {
      if (this.rebalanceTime !== undefined) {
        this.options.logger.info(
          { event: 'rebalance_recommendation_withdrawn', source: 'aws' },
          'AWS rebalance recommendation withdrawn',
        );
      }
      this.rebalanceTime = undefined;
      return;
    }
    const { noticeTime } = fields(document, rebalancePath, ['noticeTime']);
    const time = noticeTime ?? '?';
    if (time === this.rebalanceTime) return;
    this.rebalanceTime = time;
    const detail = `AWS rebalance recommendation at ${time}: this spot instance is at elevated risk of interruption`;
    this.options.logger.warn({ event: 'rebalance_recommendation', source: 'aws', notice_time: time }, detail);
    this.reporter.rebalance(detail);
  }
}

/** The named string fields of a JSON object (undefined where absent); anything but an object is garbage. */
function fields<K extends string>(document: unknown, path: string, names: readonly K[]): Record<K, string | undefined> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new Error(`${path}: the answer is not a JSON object`);
  }
  const record = document as Record<string, unknown>;
  return Object.fromEntries(names.map((name) => [name, typeof record[name] === 'string' ? record[name] : undefined])) as Record<
    K,
    string | undefined
  >;
}
