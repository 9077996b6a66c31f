/**
 * Azure scheduled events (SPEC §6.2): polls the instance metadata service
 * every second and tells the broker whether a `Preempt` event is announced for
 * this machine. Poll failures are logged at most once a minute and never stop
 * the worker. With `act: false` (JOBQ_DISABLE_SCHEDULED_EVENTS=1) events are
 * only logged.
 */
import type { Agent, request } from 'undici';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';

export const defaultMetadataUrl = 'http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01';

export interface ScheduledEventsOptions {
  url: string;
  /** Whether a Preempt event stops the worker (false: log only). */
  act: boolean;
  intervalMs?: number;
  logger: Logger;
  onPreemption(announced: boolean): void;
}

interface ScheduledEvent {
  EventId?: string;
  EventType?: string;
  NotBefore?: string;
}

interface ScheduledEventsDocument {
  DocumentIncarnation?: number;
  Events?: ScheduledEvent[];
}

/** The poller's settings from the environment, or undefined when not on Azure. */
export function scheduledEventsFromEnv(env: NodeJS.ProcessEnv = process.env): { url: string; act: boolean } | undefined {
  const endpoint = env['JOBQ_IMDS_ENDPOINT'];
  const onAzure = Boolean(env['AZ_BATCHAI_CLUSTER_NAME'] || env['AZ_BATCH_TASK_ID']);
  if (!endpoint && !onAzure) return undefined;
  let url = defaultMetadataUrl;
  if (endpoint) {
    const parsed = new URL(endpoint);
    url = parsed.pathname === '/' && parsed.search === '' ? new URL('/metadata/scheduledevents?api-version=2020-07-01', parsed).href : parsed.href;
  }
  return { url, act: env['JOBQ_DISABLE_SCHEDULED_EVENTS'] !== '1' };
}

const failureLogIntervalMs = 60_000;

export class ScheduledEventsPoller {
  private timer: NodeJS.Timeout | undefined;
  /** undici, loaded when a poller is made: most workers never poll, and loading it takes 40 ms. */
  private readonly http: Promise<{ agent: Agent; request: typeof request }> = import('undici').then((undici) => ({
    agent: new undici.Agent({ keepAliveTimeout: 10_000, connect: { timeout: 2_000 } }),
    request: undici.request,
  }));
  private announced = false;
  private incarnation: number | undefined;
  private lastFailureLog = 0;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly options: ScheduledEventsOptions) {}

  start(): this {
    const tick = (): void => {
      this.polling = this.poll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.intervalMs ?? 1_000);
      });
    };
    this.timer = setTimeout(tick, 0);
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await (await this.http).agent.close();
  }

  private async poll(): Promise<void> {
    let document: ScheduledEventsDocument;
    try {
      const { agent, request } = await this.http;
      const response = await request(this.options.url, {
        headers: { Metadata: 'true' },
        dispatcher: agent,
        headersTimeout: 3_000,
        bodyTimeout: 3_000,
      });
      if (response.statusCode !== 200) {
        await response.body.dump();
        throw new Error(`HTTP ${response.statusCode}`);
      }
      document = (await response.body.json()) as ScheduledEventsDocument;
    } catch (err) {
      const now = Date.now();
      if (now - this.lastFailureLog >= failureLogIntervalMs) {
        this.lastFailureLog = now;
        this.options.logger.warn({ event: 'scheduled_events_error' }, `cannot read scheduled events: ${errorMessage(err)}`);
      }
      return;
    }
    const preempt = (document.Events ?? []).filter((event) => event.EventType === 'Preempt');
    if (document.DocumentIncarnation !== this.incarnation) {
      this.incarnation = document.DocumentIncarnation;
      for (const event of document.Events ?? []) {
        this.options.logger.warn(
          { event: 'scheduled_event', event_type: event.EventType, event_id: event.EventId },
          `scheduled event ${event.EventType ?? '?'} (${event.EventId ?? 'no id'}) not before ${event.NotBefore ?? 'unknown'}`,
        );
      }
    }
    const announced = preempt.length > 0;
    if (announced === this.announced) return;
    this.announced = announced;
    if (!this.options.act) {
      this.options.logger.warn(
        { event: 'scheduled_event_ignored' },
        `preemption ${announced ? 'announced' : 'withdrawn'}; not acting on it (JOBQ_DISABLE_SCHEDULED_EVENTS=1)`,
      );
      return;
    }
    this.options.onPreemption(announced);
  }
}
