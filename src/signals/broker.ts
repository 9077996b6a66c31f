/**
 * The signal broker: the one owner of every stop source (SPEC §6.1) and the
 * state machine that decides what the worker does about them.
 *
 * Phases:
 *   running  — slots lease and run tasks.
 *   braced   — after SIGTERM or an announced preemption: no new tasks, running
 *              tasks got SIGTERM and are released as they exit; the worker waits
 *              to be killed. When the brace timer (JOBQ_PREEMPTION_TIMEOUT) has
 *              run out and no preemption is announced any more, or when a brace
 *              that only an announced event started sees the event go, → running.
 *   stopping — final: no new tasks; running tasks either finish (drain) or get
 *              SIGTERM (cancel); the worker exits once they are gone, with the
 *              exit code of `stopSource` (src/exit-codes.ts). There is no way back.
 *
 * Interrupts (SIGTERM/SIGINT) escalate: the first starts a brace (SIGTERM) or a
 * cancelling stop (SIGINT); a second during any stop skips the brace and stops
 * for good; a third SIGKILLs the running tasks. A resume resets the count.
 *
 * Preemption notices (SPEC §6.2; the broker is the detectors' NoticeSink)
 * stand one per cloud. While any stands, a running worker braces as for
 * SIGTERM and cannot resume; a notice during a stop turns a drain into a
 * cancel (the machine goes away regardless). The earliest deadline among them
 * arms one timer at `deadline − preemptionMarginMs`: then whatever still runs
 * is SIGKILLed, so that its lease goes back while the machine still exists.
 * When the last notice is withdrawn the timer is cleared and a brace that
 * only notices started ends at once. An AWS rebalance recommendation drains
 * the worker when `drainOnRebalance` is set.
 */
import type { NoticeSink, NoticeSource, PreemptionNotice } from './notices/notice.js';


export type StopSource =
  | 'SIGTERM'
  | 'SIGINT'
  | 'SIGUSR1'
  | 'SIGUSR2'
  | 'time-limit'
  | 'max-failures'
  | 'control-stop'
  | 'control-drain'
  | 'rebalance'
  | 'abort';

export type BrokerPhase = 'running' | 'braced' | 'stopping';

/** What the broker asks of whoever runs the tasks. */
export interface BrokerListener {
  /** A stop's SIGTERM to every running task (they are released when they exit). */
  cancelRunning?(): void;
  /** SIGKILL to every running task. */
  killRunning?(): void;
  /** Work may go on (after a brace). */
  resumed?(): void;
  /** Phase changes, for logging. */
  changed?(phase: BrokerPhase, reason: string): void;
  /** A cloud's preemption notice now stands (or changed), or (undefined) was withdrawn. */
  notice?(source: NoticeSource, notice: PreemptionNotice | undefined): void;
}

/** What the worker loop sees of the broker. */
export interface StopBroker {
  readonly phase: BrokerPhase;
  /** Aborts when the current running period ends (to cut idle waits short). */
  readonly pauseSignal: AbortSignal;
  /** Resolves true when tasks may be leased, false once the worker is stopping for good. */
  whenRunnable(): Promise<boolean>;
  /** A stop source fired. */
  request(source: StopSource): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: BrokerListener): () => void;
}

export interface BrokerOptions {
  /** How long a brace waits to be killed before work may resume, ms (default 120 s). */
  preemptionTimeoutMs: number;
  /** SIGKILL what still runs this long before a preemption notice's deadline, ms (default 10 s). */
  preemptionMarginMs?: number;
  /** An AWS rebalance recommendation drains the worker (default false). */
  drainOnRebalance?: boolean;
  /** Called when a listener throws; the broker goes on. */
  onListenerError?: (err: unknown) => void;
}

/** Sources whose running tasks finish normally instead of getting SIGTERM. */
const drainingSources = new Set<StopSource>(['SIGUSR1', 'control-drain', 'rebalance']);

export class SignalBroker implements StopBroker, NoticeSink {
  private phaseValue: BrokerPhase = 'running';
  private finalSource: StopSource | undefined;
  private interrupts = 0;
  private braceTimer: NodeJS.Timeout | undefined;
  private braceTimerDone = false;
  private preemptionAnnounced = false;
  private killed = false;
  /** The preemption notices that stand, one per cloud. */
  private readonly notices = new Map<NoticeSource, PreemptionNotice>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<BrokerListener>();
  private waiters: Array<(running: boolean) => void> = [];
  private pauseController = new AbortController();

  constructor(private readonly options: BrokerOptions) {}

  get phase(): BrokerPhase {
    return this.phaseValue;
  }

  /** The source of the final stop (it decides the exit code), once stopping. */
  get stopSource(): StopSource | undefined {
    return this.finalSource;
  }

  /** Aborts when the current running period ends (to cut idle waits short). */
  get pauseSignal(): AbortSignal {
    return this.pauseController.signal;
  }

  subscribe(listener: BrokerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves true when tasks may be leased, false once the worker is stopping for good. */
  whenRunnable(): Promise<boolean> {
    if (this.phaseValue === 'running') return Promise.resolve(true);
    if (this.phaseValue === 'stopping') return Promise.resolve(false);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A stop source fired. */
  request(source: StopSource): void {
    const interrupt = source === 'SIGTERM' || source === 'SIGINT';
    if (interrupt) this.interrupts += 1;
    if (this.interrupts >= 3 && interrupt) {
      this.stopFor(this.finalSource ?? source, 'third interrupt: killing running tasks');
      if (!this.killed) {
        this.killed = true;
        this.emit((l) => l.killRunning?.());
      }
      return;
    }
    if (this.phaseValue === 'running') {
      if (source === 'SIGTERM') {
        this.brace('SIGTERM', true);
      } else {
        this.stopFor(source, `stop requested by ${source}`);
        if (!drainingSources.has(source)) this.emit((l) => l.cancelRunning?.());
      }
      return;
    }
    if (interrupt) {
      // A second interrupt during a brace or a stop: stop for good, no brace.
      this.stopFor(source, `${source} during a stop: exiting as soon as running tasks are gone`);
      this.emit((l) => l.cancelRunning?.());
    } else if (this.phaseValue === 'braced') {
      this.stopFor(source, `stop requested by ${source}`);
    }
  }

  /** The earliest deadline among the notices that stand. */
  get preemptionDeadline(): Date | undefined {
    let earliest: Date | undefined;
    for (const { deadline } of this.notices.values()) {
      if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
    }
    return earliest;
  }

  /** A detector's report (NoticeSink): a notice from `source` stands, changed, or (undefined) was withdrawn. */
  preemption(source: NoticeSource, notice: PreemptionNotice | undefined): void {
    if (notice === undefined && !this.notices.has(source)) return;
    if (notice) this.notices.set(source, notice);
    else this.notices.delete(source);
    this.emit((l) => l.notice?.(source, notice));
    this.armDeadline();
    const announced = this.notices.size > 0;
    if (announced && this.phaseValue === 'stopping') this.emit((l) => l.cancelRunning?.());
    if (announced === this.preemptionAnnounced) return;
    this.preemptionAnnounced = announced;
    if (announced && this.phaseValue === 'running') this.brace(`${source} preemption notice`, false);
    else if (!announced) this.maybeResume();
  }

  /** A detector's early warning (NoticeSink): drains the worker when asked to. */
  rebalance(): void {
    if (this.options.drainOnRebalance && this.phaseValue === 'running') this.request('rebalance');
  }

  /** Ends the broker: timers cleared, waiters told to stop. */
  dispose(): void {
    if (this.braceTimer) clearTimeout(this.braceTimer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.listeners.clear();
    if (this.phaseValue !== 'stopping') {
      this.phaseValue = 'stopping';
      this.pauseController.abort();
    }
    this.flushWaiters(false);
  }

  /** One timer at the earliest deadline less the margin; none without a deadline. */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    const deadline = this.preemptionDeadline;
    if (deadline === undefined) return;
    const delay = Math.max(0, deadline.getTime() - (this.options.preemptionMarginMs ?? 10_000) - Date.now());
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      this.emit((l) => l.changed?.(this.phaseValue, `preemption at ${deadline.toISOString()}: killing running tasks now`));
      this.emit((l) => l.killRunning?.());
    }, delay);
    this.deadlineTimer.unref();
  }

  private brace(reason: string, timed: boolean): void {
    this.phaseValue = 'braced';
    this.pauseController.abort();
    this.braceTimerDone = !timed;
    if (timed) {
      this.braceTimer = setTimeout(() => {
        this.braceTimerDone = true;
        this.maybeResume();
      }, this.options.preemptionTimeoutMs);
      this.braceTimer.unref();
    }
    this.emit((l) => l.changed?.('braced', `${reason}: bracing for preemption`));
    this.emit((l) => l.cancelRunning?.());
  }

  private maybeResume(): void {
    if (this.phaseValue !== 'braced' || this.preemptionAnnounced || !this.braceTimerDone) return;
    this.phaseValue = 'running';
    this.interrupts = 0;
    this.pauseController = new AbortController();
    this.emit((l) => l.changed?.('running', 'no preemption came: resuming work'));
    this.emit((l) => l.resumed?.());
    this.flushWaiters(true);
  }

  private stopFor(source: StopSource, reason: string): void {
    if (this.braceTimer) clearTimeout(this.braceTimer);
    // The first final source decides the exit code, except that an interrupt
    // overrides any other (the user asked to stop now).
    const isInterrupt = (s: StopSource | undefined) => s === 'SIGINT' || s === 'SIGTERM';
    if (this.finalSource === undefined || (isInterrupt(source) && !isInterrupt(this.finalSource))) {
      this.finalSource = source;
    }
    if (this.phaseValue !== 'stopping') {
      this.phaseValue = 'stopping';
      this.pauseController.abort();
    }
    this.emit((l) => l.changed?.('stopping', reason));
    this.flushWaiters(false);
  }

  private flushWaiters(running: boolean): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(running);
  }

  private emit(call: (listener: BrokerListener) => void): void {
    for (const listener of this.listeners) {
      try {
        call(listener);
      } catch (err) {
        this.options.onListenerError?.(err);
      }
    }
  }
}
