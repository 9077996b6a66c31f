/**
 * What a preemption-notice detector reports, and to whom (SPEC §6.2). A
 * detector watches one cloud's metadata service and tells a sink when a
 * notice stands, changes or goes; the broker is the sink in the worker.
 */

/** The clouds whose notices jobq hears. */
export const noticeSources = ['azure', 'aws', 'gcp'] as const;
export type NoticeSource = (typeof noticeSources)[number];

export interface PreemptionNotice {
  readonly source: NoticeSource;
  /** When the machine goes away, as the cloud says (or as its documented notice period implies); undefined if unknown. */
  readonly deadline: Date | undefined;
  /** One line for logs: what the cloud announced. */
  readonly detail: string;
}

export interface NoticeSink {
  /** A notice now stands (or changed), or (undefined) none stands any more for this source. */
  preemption(source: NoticeSource, notice: PreemptionNotice | undefined): void;
  /** An early warning that may be acted on (AWS rebalance recommendation). */
  rebalance?(detail: string): void;
}

/** One source's watcher. `stop()` may be called any number of times, before or after `start()`. */
export interface NoticeDetector {
  readonly source: NoticeSource;
  start(): void;
  stop(): Promise<void>;
}

/** Whether two notices say the same (so that a repeated poll reports nothing new). */
export function sameNotice(a: PreemptionNotice | undefined, b: PreemptionNotice | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.source === b.source && a.detail === b.detail && a.deadline?.getTime() === b.deadline?.getTime();
}
