/**
 * The worker's view of Azure scheduled events as it was before the notice
 * detectors (notices/): a poller that says whether a preemption is announced.
 * It stands on the Azure detector, and goes when the worker takes a NoticeSink
 * from notices/watch.ts. It reads the environment as notices/options.ts does,
 * but not the firmware identity: as before, it runs on Azure Batch (and Azure
 * ML) nodes and where JOBQ_PREEMPTION_NOTICES names azure.
 */
import type { Logger } from '../log/logger.js';
import { AzureScheduledEvents } from './notices/azure.js';
import { resolveNoticeOptions } from './notices/options.js';

export interface ScheduledEventsOptions {
  url: string;
  /** Whether a Preempt event stops the worker (false: log only). */
  act: boolean;
  intervalMs?: number;
  logger: Logger;
  onPreemption(announced: boolean): void;
}

/** The poller's settings from the environment, or undefined when it should not run. */
export function scheduledEventsFromEnv(env: NodeJS.ProcessEnv = process.env): { url: string; act: boolean } | undefined {
  const azure = resolveNoticeOptions({}, env, { dir: '(not read)' }).detectors.find((one) => one.source === 'azure');
  return azure?.source === 'azure' ? { url: azure.url, act: azure.ignoredBecause === undefined } : undefined;
}

export class ScheduledEventsPoller {
  private readonly detector: AzureScheduledEvents;

  constructor(options: ScheduledEventsOptions) {
    this.detector = new AzureScheduledEvents({
      url: options.url,
      ignoredBecause: options.act ? undefined : 'JOBQ_DISABLE_SCHEDULED_EVENTS=1',
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
      logger: options.logger,
      sink: { preemption: (_source, notice) => options.onPreemption(notice !== undefined) },
    });
  }

  start(): this {
    this.detector.start();
    return this;
  }

  stop(): Promise<void> {
    return this.detector.stop();
  }
}
