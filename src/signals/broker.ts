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
 */

export type StopSource =
  | 'SIGTERM'
  | 'SIGINT'
  | 'SIGUSR1'
  | 'SIGUSR2'
  | 'time-limit'
  | 'max-failures'
  | 'control-stop'
  | 'control-drain'
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
  /** Called when a listener throws; the broker goes on. */
  onListenerError?: (err: unknown) => void;
}

/** Sources whose running tasks finish normally instead of getting SIGTERM. */
const drainingSources = new Set<StopSource>(['SIGUSR1', 'control-drain']);

export class SignalBroker implements StopBroker {
  private phaseValue: BrokerPhase = 'running';
  private finalSource: StopSource | undefined;
  private interrupts = 0;
  private braceTimer: NodeJS.Timeout | undefined;
  private braceTimerDone = false;
  private preemptionAnnounced = false;
  private killed = false;
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

  /** The scheduled-events poller's view: is a preemption announced for this machine? */
  setPreemptionAnnounced(announced: boolean): void {
    if (announced === this.preemptionAnnounced) return;
    this.preemptionAnnounced = announced;
    if (announced && this.phaseValue === 'running') {
      this.brace('Preempt event', false);
    } else if (!announced) {
      this.maybeResume();
    }
  }

  /** Ends the broker: timers cleared, waiters told to stop. */
  dispose(): void {
    if (this.braceTimer) clearTimeout(this.braceTimer);
    this.listeners.clear();
    if (this.phaseValue !== 'stopping') {
      this.phaseValue = 'stopping';
      this.pauseController.abort();
    }
    this.flushWaiters(false);
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
