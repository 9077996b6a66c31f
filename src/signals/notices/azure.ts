/**
 * Azure scheduled events (SPEC §6.3): polls the instance metadata service
 * every second. A `Preempt` event for this machine is a notice whose deadline
 * is its `NotBefore` (blank once the event has started: the deadline is then
 * now); when the event leaves the document the notice is withdrawn.
 *
 * Azure delivers the events of every machine of a scale set's placement group
 * to all of them, naming the affected ones in `Resources`. A Preempt event
 * that names machines counts only if it names this one (its name from the
 * metadata service's compute/name, looked up the first time it is needed, as
 * Microsoft's own samples do); while the name cannot be learnt, every Preempt
 * event counts, which is the safe side.
 */
import type { PreemptionNotice } from './notice.js';
import { PollingDetector, type PollingDetectorOptions } from './polling-detector.js';
import { parseDate } from './reporter.js';

export const azureScheduledEventsPath = '/metadata/scheduledevents?api-version=2020-07-01';
const computeNamePath = '/metadata/instance/compute/name?api-version=2021-02-01&format=text';
/** Azure's least notice for a Preempt event, used when its NotBefore cannot be read. */
const preemptNoticeMs = 30_000;

export interface AzureScheduledEventsOptions extends PollingDetectorOptions {
  /** The scheduled-events URL, e.g. `http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01`. */
  url: string;
  /** Why notices are only logged, if they are (JOBQ_DISABLE_SCHEDULED_EVENTS=1); default: they are acted on. */
  ignoredBecause?: string | undefined;
  /** Longest wait for one answer, ms (default 3 s). */
  requestTimeoutMs?: number;
}

interface ScheduledEvent {
  EventId?: unknown;
  EventType?: unknown;
  EventStatus?: unknown;
  Resources?: unknown;
  NotBefore?: unknown;
}

interface ScheduledEventsDocument {
  DocumentIncarnation?: unknown;
  Events: ScheduledEvent[];
}

export class AzureScheduledEvents extends PollingDetector {
  readonly source = 'azure';
  private incarnation: unknown;
  /** When each Preempt event was first seen, by id: the deadline of one whose NotBefore cannot be read. */
  private firstSeen = new Map<string, number>();
  /** This machine's name: a string once known, null when the service does not tell it. */
  private machineName: string | null | undefined;

  constructor(private readonly options: AzureScheduledEventsOptions) {
    super('azure', 'Azure scheduled events', options);
  }

  protected async poll(signal: AbortSignal): Promise<number> {
    let document: ScheduledEventsDocument;
    try {
      document = await this.read(signal);
    } catch (err) {
      if (!signal.aborted) this.failures.failed(err);
      return this.intervalMs;
    }
    this.failures.succeeded();
    const seenAt = Date.now();
    const preempts = document.Events.filter((event) => event.EventType === 'Preempt');
    const name = preempts.some(namesMachines) ? await this.ourName(signal) : undefined;
    const ours = preempts.filter((event) => !namesMachines(event) || name === undefined || names(event, name));
    if (document.DocumentIncarnation !== this.incarnation) {
      this.incarnation = document.DocumentIncarnation;
      for (const event of document.Events) this.logEvent(event, preempts.includes(event) && !ours.includes(event));
    }
    const firstSeen = new Map<string, number>();
    for (const event of ours) {
      const id = describe(event.EventId, '');
      firstSeen.set(id, this.firstSeen.get(id) ?? seenAt);
    }
    this.firstSeen = firstSeen;
    this.reporter.report(this.noticeOf(ours, seenAt));
    return this.intervalMs;
  }

  private async read(signal: AbortSignal): Promise<ScheduledEventsDocument> {
    const response = await this.http.request(this.options.url, {
      headers: { Metadata: 'true' },
      timeoutMs: this.options.requestTimeoutMs ?? 3_000,
      signal,
    });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    const document = JSON.parse(response.body) as { DocumentIncarnation?: unknown; Events?: unknown } | null;
    if (typeof document !== 'object' || document === null || !Array.isArray(document.Events)) {
      throw new Error('the answer is not a scheduled-events document');
    }
    const events = document.Events.filter((event): event is ScheduledEvent => typeof event === 'object' && event !== null);
    return { DocumentIncarnation: document.DocumentIncarnation, Events: events };
  }

  /** This machine's name, or undefined when it cannot be learnt now. */
  private async ourName(signal: AbortSignal): Promise<string | undefined> {
    if (this.machineName === undefined) {
      try {
        const response = await this.http.request(new URL(computeNamePath, this.options.url).href, {
          headers: { Metadata: 'true' },
          timeoutMs: this.options.requestTimeoutMs ?? 3_000,
          signal,
        });
        const name = response.body.trim();
        if (response.status === 200 && name !== '') this.machineName = name;
        else if (response.status >= 400 && response.status < 500) this.machineName = null;
      } catch {
        // Unreachable now: every Preempt event counts until the name is known.
      }
    }
    return this.machineName ?? undefined;
  }

  /** The notice the Preempt events for this machine make: the earliest deadline, every event named. */
  private noticeOf(events: readonly ScheduledEvent[], seenAt: number): PreemptionNotice | undefined {
    if (events.length === 0) return undefined;
    const deadlines = events.map((event) => {
      if (event.NotBefore === '') return seenAt; // blank once the event has started: it is happening now
      const firstSeen = this.firstSeen.get(describe(event.EventId, '')) ?? seenAt;
      return parseDate(event.NotBefore)?.getTime() ?? firstSeen + preemptNoticeMs;
    });
    const ids = events.map((event) => describe(event.EventId, 'no id')).join(', ');
    const notBefore = events.map((event) => describe(event.NotBefore, '?') || 'started').join(', ');
    return {
      source: 'azure',
      deadline: new Date(Math.min(...deadlines)),
      detail: `Preempt event ${ids} (not before ${notBefore})`,
    };
  }

  private logEvent(event: ScheduledEvent, forOthers: boolean): void {
    const type = describe(event.EventType, '?');
    const id = describe(event.EventId, 'no id');
    const resources = Array.isArray(event.Resources) ? ` for ${event.Resources.map((r) => describe(r, '?')).join(', ')}` : '';
    this.options.logger.warn(
      { event: 'scheduled_event', event_type: type, event_id: id },
      `scheduled event ${type} (${id})${resources} not before ${describe(event.NotBefore, 'unknown') || 'now'}` +
        (forOthers ? ': for another machine, not this one' : ''),
    );
  }
}

function namesMachines(event: ScheduledEvent): boolean {
  return Array.isArray(event.Resources) && event.Resources.length > 0;
}

function names(event: ScheduledEvent, machine: string): boolean {
  const wanted = machine.toLowerCase();
  return Array.isArray(event.Resources) && event.Resources.some((r) => typeof r === 'string' && r.toLowerCase() === wanted);
}

function describe(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}
