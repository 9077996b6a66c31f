/**
 * The worker loop (SPEC §6 steps 1–5): N task slots in one process. It is
 * given what it needs as functions (lease a job, is the queue drained, an
 * abortable wait for tasks) and a stop broker, and knows nothing of storage, processes
 * or signals.
 *
 * Each slot: wait until the broker lets work go on; lease a job; run it; take
 * the next job as soon as the settlement of the last is chosen, while it is
 * being written: a storage round trip (a delete) never holds a slot. A slot
 * has at most `maxSettlingPerSlot` settlements under way (short tasks on a
 * link with a 20 ms round trip need dozens), and ends only once all of its
 * settlements are written. A slot that finds no visible task ends when
 * the queue is drained (by the idle policy), else waits for tasks, doubling the pause
 * up to `maxIdlePollMs`, woken early when a settlement may have put a
 * message back, when the worker's last job is settled (the queue may now be
 * drained), or when the broker pauses work. A backend failure is logged and
 * waited out the same way, unless retrying cannot mend it: then the loop
 * stops and `run()` rejects with it.
 *
 * Consecutive failures are counted across the slots when the settlement is
 * chosen; more than `maxConsecutiveFailures` asks the broker for the
 * `max-failures` stop.
 */
import { errorMessage, isPermanentBackendError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { StopBroker } from '../signals/broker.js';
import type { Settlement } from './execution.js';

/** A leased task in a slot (a TaskExecution). */
export interface Job {
  /** Resolves with the settlement once it is chosen, before it is written. */
  readonly decided: Promise<Settlement>;
  /** Runs the task and writes its settlement; resolves once written (`unsettled` when the write failed). */
  execute(): Promise<Settlement>;
  /** A stop's SIGTERM (or abort). */
  cancel(): void;
  /** SIGKILL at once. */
  kill(): void;
}

/** What the loop is given. */
export interface LoopParts {
  /** The next job at once, when one is leased ahead (no storage call); undefined: ask `lease()`. */
  leaseReady(): Job | undefined;
  /** The next job for a slot; undefined when no task is visible now. Rejects when the queue cannot be reached. */
  lease(): Promise<Job | undefined>;
  /**
   * Whether a slot that found no visible task should end (the idle policy).
   * `held`: the jobs this worker holds now, running or settling (their messages are still in the queue).
   */
  isDrained(held: number): Promise<boolean>;
  /** Whether slots may lease more (false once `maxTasks` are claimed). */
  mayLeaseMore(): boolean;
  /** No task starts for now (a stop or a brace): what is leased but not started goes back. */
  pause(): void;
  /** Waits up to `ms` for tasks (less when the backend notifies a push, or `signal` aborts); never rejects. */
  waitForTasks(ms: number, signal: AbortSignal): Promise<void>;
}

export interface LoopSettings {
  /** How many slots: the worker's task slots, times one more for each task its processor takes ahead. */
  readonly slots: number;
  readonly maxConsecutiveFailures: number;
  readonly maxIdlePollMs: number;
  readonly logger: Logger;
}

export interface WorkerStats {
  succeeded: number;
  /** Retried or dead-lettered (each also counts there). */
  failed: number;
  retried: number;
  deadLettered: number;
  /** Dead-lettered unrun: delivered more than maxDeliveries times without a settlement. */
  deliveryLimit: number;
  /** Released unchanged after a stop. */
  released: number;
  leaseLost: number;
  invalid: number;
  unsettled: number;
}

/** The counter each settlement adds to (failures also count in `failed`). */
const statOf: Record<Settlement, Exclude<keyof WorkerStats, 'failed'>> = {
  succeeded: 'succeeded',
  retried: 'retried',
  'dead-lettered': 'deadLettered',
  'delivery-limit': 'deliveryLimit',
  released: 'released',
  'lease-lost': 'leaseLost',
  invalid: 'invalid',
  unsettled: 'unsettled',
};

/** Settlements of a task that failed (they count toward maxConsecutiveFailures). */
function isFailure(settlement: Settlement): boolean {
  return settlement === 'retried' || settlement === 'dead-lettered';
}

/** Settlements that take the message out of the queue for good. */
const leavesQueue: ReadonlySet<Settlement> = new Set(['succeeded', 'dead-lettered', 'delivery-limit', 'invalid']);

const firstIdlePollMs = 250;
/** The most settlements one slot has under way: it waits for the oldest before it takes another task. */
export const maxSettlingPerSlot = 32;

export class WorkerLoop {
  readonly stats: WorkerStats = {
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    deliveryLimit: 0,
    released: 0,
    leaseLost: 0,
    invalid: 0,
    unsettled: 0,
  };
  private readonly running = new Set<Job>();
  /** Jobs whose settlement is not written yet, running ones included: their messages are still in the queue. */
  private unwritten = 0;
  private consecutiveFailures = 0;
  /** Aborted for idle slots when they should look at the queue again at once (`countWritten`). */
  private jobSettled = new AbortController();
  private idleSlots = 0;
  /** A backend failure that retrying cannot mend; `run()` rejects with it. */
  private failure: { readonly error: unknown } | undefined;

  constructor(
    private readonly parts: LoopParts,
    private readonly broker: StopBroker,
    private readonly settings: LoopSettings,
  ) {}

  /** How many jobs the slots hold now: running, or handed to a processor that takes tasks ahead. */
  get heldCount(): number {
    return this.running.size;
  }

  /** Runs the slots until each has ended; rejects with a failure retrying cannot mend (after the stop it caused). */
  async run(): Promise<void> {
    const unsubscribe = this.broker.subscribe({
      cancelRunning: () => this.running.forEach((job) => job.cancel()),
      killRunning: () => this.running.forEach((job) => job.kill()),
      changed: (phase) => {
        if (phase !== 'running') this.parts.pause();
      },
    });
    try {
      await Promise.all(Array.from({ length: this.settings.slots }, () => this.slot()));
    } finally {
      unsubscribe();
    }
    if (this.failure) throw this.failure.error;
  }

  private async slot(): Promise<void> {
    /** This slot's settlements under way, oldest first. */
    const settling: Promise<void>[] = [];
    let idleMs = firstIdlePollMs;
    try {
      // The common case (running, a lease waiting ahead) takes no await: the per-task path is the worker's hot path.
      while ((this.broker.phase === 'running' || (await this.broker.whenRunnable())) && this.parts.mayLeaseMore()) {
        const job = this.parts.leaseReady() ?? (await this.nextJob(idleMs));
        if (job === 'drained') return;
        if (job === undefined) {
          // Tasks are leased elsewhere (or the backend failed): they may come back.
          this.idleSlots += 1;
          await this.parts.waitForTasks(idleMs, AbortSignal.any([this.broker.pauseSignal, this.jobSettled.signal]));
          this.idleSlots -= 1;
          idleMs = Math.min(idleMs * 2, this.settings.maxIdlePollMs);
          continue;
        }
        idleMs = firstIdlePollMs;
        // A stop that came while the lease was in flight: the job is released untouched.
        if (this.broker.phase !== 'running') job.cancel();
        this.running.add(job);
        this.unwritten += 1;
        const written = job.execute().then(
          (settlement) => this.countWritten(settlement),
          (err: unknown) => {
            this.unwritten -= 1;
            this.fail(err);
          },
        );
        this.countDecided(await job.decided);
        this.running.delete(job);
        settling.push(written);
        if (settling.length >= maxSettlingPerSlot) await settling.shift();
      }
    } finally {
      await Promise.all(settling);
    }
  }

  /** A job; undefined when none is visible (or the backend failed); `drained` when the slot should end. */
  private async nextJob(idleMs: number): Promise<Job | 'drained' | undefined> {
    try {
      const job = await this.parts.lease();
      if (job === undefined && (await this.parts.isDrained(this.unwritten))) return 'drained';
      return job;
    } catch (err) {
      if (isPermanentBackendError(err)) {
        // Waiting cannot mend it (a corrupt database).
        this.fail(err);
        return 'drained';
      }
      this.settings.logger.error(
        { event: 'backend_error', retry_in_ms: idleMs },
        `cannot reach the queue: ${errorMessage(err)}; retrying in ${idleMs} ms`,
      );
      return undefined;
    }
  }

  /** Stops, releasing running tasks; `run()` then rejects with `err`. */
  private fail(err: unknown): void {
    this.failure ??= { error: err };
    this.broker.request('abort');
  }

  /** A settlement was chosen: consecutive failures count now, before the slot takes its next task. */
  private countDecided(settlement: Settlement): void {
    if (settlement === 'succeeded') {
      this.consecutiveFailures = 0;
      return;
    }
    if (!isFailure(settlement)) return;
    this.consecutiveFailures += 1;
    const limit = this.settings.maxConsecutiveFailures;
    if (this.consecutiveFailures > limit && this.broker.phase !== 'stopping') {
      this.settings.logger.error(
        { event: 'too_many_failures', consecutive_failures: this.consecutiveFailures },
        `${this.consecutiveFailures} consecutive failures (more than ${limit}): stopping`,
      );
      this.broker.request('max-failures');
    }
  }

  /** A settlement was written (or could not be: `unsettled`). */
  private countWritten(settlement: Settlement): void {
    this.unwritten -= 1;
    this.stats[statOf[settlement]] += 1;
    if (isFailure(settlement)) this.stats.failed += 1;
    // Wake idle slots when a message may have gone back to the queue, or when
    // this worker holds no more (the queue may be drained now); a task that
    // left the queue changes neither. Aborting costs a DOMException: only
    // when a slot is waiting to be woken.
    if (this.idleSlots > 0 && (this.unwritten === 0 || !leavesQueue.has(settlement))) {
      this.jobSettled.abort();
      this.jobSettled = new AbortController();
    }
  }
}
