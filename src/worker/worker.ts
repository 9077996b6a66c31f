/**
 * The worker (SPEC §6): N task slots in one process. Each slot takes a lease
 * (from the lease buffer, which leases ahead of the slots when tasks are
 * short), runs the task through the processor and settles it, until the
 * queue is empty or the signal broker says stop; a stop also gives the leases
 * no slot has taken back to the queue. The worker knows nothing of storage
 * details (the queue) or of processes (the processor); the broker owns every
 * stop.
 */
import os from 'node:os';
import { errorMessage, isPermanentBackendError } from '../errors.js';
import { silentLogger, type Logger } from '../log/logger.js';
import type { Processor } from '../processors/processor.js';
import type { JobQueue } from '../queue.js';
import { SignalBroker, type StopSource } from '../signals/broker.js';
import { ControlListener } from '../signals/control-channel.js';
import { writePidFile } from '../signals/pid-files.js';
import { forwardProcessSignals } from '../signals/process-signals.js';
import { ScheduledEventsPoller } from '../signals/scheduled-events.js';
import { LeaseBuffer } from './lease-buffer.js';
import { TaskExecution, type ExecutionContext, type Settlement } from './execution.js';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './options.js';
import { sleep } from './sleep.js';

export interface WorkerStats {
  succeeded: number;
  failed: number;
  retried: number;
  deadLettered: number;
  /** Dead-lettered unrun: delivered more than maxDeliveries times without a settlement. */
  deliveryLimit: number;
  cancelled: number;
  lockLost: number;
  invalid: number;
  unsettled: number;
}

export interface WorkerResult {
  /** The process exit code of SPEC §5. */
  readonly exitCode: number;
  /** Why the worker ended: `drained`, or the stop source. */
  readonly reason: 'drained' | StopSource;
  readonly stats: Readonly<WorkerStats>;
  /** How many messages were leased in all. */
  readonly leased: number;
}

/** The counter each settlement adds to (failures also count in `failed`). */
const statOf: Record<Settlement, Exclude<keyof WorkerStats, 'failed'>> = {
  succeeded: 'succeeded',
  retried: 'retried',
  'dead-lettered': 'deadLettered',
  'delivery-limit': 'deliveryLimit',
  cancelled: 'cancelled',
  'lock-lost': 'lockLost',
  invalid: 'invalid',
  unsettled: 'unsettled',
};

/** Settlements of a task that failed (they count toward maxConsecutiveFailures). */
function isFailure(settlement: Settlement): boolean {
  return settlement === 'retried' || settlement === 'dead-lettered';
}

const firstIdlePollMs = 250;
const statusIntervalMs = 5 * 60_000;

export class Worker {
  readonly options: ResolvedWorkerOptions;
  readonly broker: SignalBroker;
  private readonly logger: Logger;
  private readonly running = new Set<TaskExecution>();
  private readonly context: ExecutionContext;
  private readonly leases: LeaseBuffer;
  private consecutiveFailures = 0;
  /** Aborted when a task settles while a slot is idle, so that idle slots look at the queue again at once. */
  private settled = new AbortController();
  private idleSlots = 0;
  private result: Promise<WorkerResult> | undefined;
  /** A backend failure that retrying cannot mend; `run()` rejects with it. */
  private failure: unknown;
  readonly stats: WorkerStats = {
    succeeded: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    deliveryLimit: 0,
    cancelled: 0,
    lockLost: 0,
    invalid: 0,
    unsettled: 0,
  };

  constructor(
    private readonly queue: JobQueue,
    processor: Processor,
    private readonly userOptions: WorkerOptions = {},
  ) {
    this.options = resolveWorkerOptions(userOptions);
    this.logger = userOptions.logger ?? silentLogger();
    this.broker = new SignalBroker({
      preemptionTimeoutMs: this.options.preemptionTimeoutMs,
      onListenerError: (err) => this.logger.error(`stop handling failed: ${errorMessage(err)}`),
    });
    this.leases = new LeaseBuffer(queue, {
      visibilityMs: this.options.visibilityTimeoutMs,
      heartbeat: this.options.heartbeat,
      maxTasks: this.options.maxTasks,
      isRunning: () => this.broker.phase === 'running',
      logger: this.logger,
    });
    this.context = {
      queue,
      processor,
      options: this.options,
      logger: this.logger,
      prefixOutput: this.options.numWorkers > 1,
    };
  }

  /** How many tasks run right now. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Runs until the queue is drained or a stop; calling it again returns the
   * same run. Rejects when the backend fails in a way retrying cannot mend
   * (a corrupt database file), after stopping and releasing running tasks.
   */
  run(): Promise<WorkerResult> {
    this.result ??= this.runOnce();
    return this.result;
  }

  /** Asks the worker to stop (as SIGUSR2 by default: running tasks are stopped and released). */
  stop(source: StopSource = 'abort'): void {
    this.broker.request(source);
  }

  private async runOnce(): Promise<WorkerResult> {
    const cleanups: Array<() => void> = [];
    const asyncCleanups: Array<() => Promise<void>> = [];
    cleanups.push(
      this.broker.subscribe({
        cancelRunning: () => this.running.forEach((execution) => execution.cancel()),
        killRunning: () => this.running.forEach((execution) => execution.kill()),
        changed: (phase, reason) => {
          this.logger.warn({ event: 'worker_phase', phase }, reason);
          // Leases waiting for a slot go back at once: no new task starts now.
          if (phase !== 'running') this.leases.releaseBuffered();
        },
      }),
    );
    if (this.options.handleSignals) {
      cleanups.push(
        forwardProcessSignals(this.broker, (signal) => this.logger.warn({ event: 'signal', signal }, `received ${signal}`)),
      );
    }
    const abortSignal = this.userOptions.signal;
    if (abortSignal) {
      const onAbort = (): void => this.broker.request('abort');
      if (abortSignal.aborted) onAbort();
      abortSignal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => abortSignal.removeEventListener('abort', onAbort));
    }
    if (this.options.writePidFile) cleanups.push(writePidFile(this.queue.name));
    const events = this.options.scheduledEvents;
    if (events) {
      const poller = new ScheduledEventsPoller({
        ...events,
        logger: this.logger,
        onPreemption: (announced) => this.broker.setPreemptionAnnounced(announced),
      }).start();
      asyncCleanups.push(() => poller.stop());
    }
    if (this.options.controlIntervalMs > 0) {
      const control = new ControlListener({
        store: this.queue.control,
        intervalMs: this.options.controlIntervalMs,
        logger: this.logger,
        isListening: () => this.broker.phase === 'running',
        onAction: (action) => this.broker.request(action === 'drain' ? 'control-drain' : 'control-stop'),
      }).start();
      asyncCleanups.push(() => control.stop());
    }
    const timeLimit = setTimeout(() => {
      this.logger.warn({ event: 'time_limit' }, 'time limit reached');
      this.broker.request('time-limit');
    }, Math.min(this.options.timeLimitMs, 2 ** 31 - 1));
    timeLimit.unref();
    cleanups.push(() => clearTimeout(timeLimit));
    const status = setInterval(() => void this.logStatus(), statusIntervalMs);
    status.unref();
    cleanups.push(() => clearInterval(status));

    this.logger.info(
      { event: 'worker_start', queue: this.queue.name, slots: this.options.numWorkers },
      `worker on ${this.queue.name} (${this.queue.backend.description}) with ${this.options.numWorkers} slot(s)`,
    );
    try {
      await Promise.all(Array.from({ length: this.options.numWorkers }, () => this.slot()));
    } finally {
      await this.leases.close();
      for (const cleanup of cleanups.reverse()) cleanup();
      this.broker.dispose();
      await Promise.allSettled(asyncCleanups.map((cleanup) => cleanup()));
    }
    if (this.failure !== undefined) throw this.failure instanceof Error ? this.failure : new Error(errorMessage(this.failure));
    const source = this.broker.stopSource;
    const result: WorkerResult = {
      exitCode: this.broker.exitCode ?? 0,
      reason: source ?? 'drained',
      stats: { ...this.stats },
      leased: this.leases.claimed,
    };
    this.logger.info(
      { event: 'worker_stop', reason: result.reason, exit_code: result.exitCode, ...result.stats },
      `worker done (${result.reason}): ${this.stats.succeeded} succeeded, ${this.stats.failed} failed, ` +
        `${this.stats.cancelled} released`,
    );
    return result;
  }

  /**
   * One task slot: lease, run, settle, until the queue is empty or the broker
   * says stop. The slot takes its next task as soon as the settlement of the
   * last one is chosen, while it is written; it waits for that write before
   * it takes the task after, so that a slot has at most one settlement under
   * way, and it ends only when its last one is written.
   */
  private async slot(): Promise<void> {
    let settling: Promise<void> = Promise.resolve();
    let idleMs = firstIdlePollMs;
    try {
      // A slot waiting for a lease counts as claimed, so that slots never ask for more than maxTasks.
      while ((await this.broker.whenRunnable()) && this.leases.claimed < this.options.maxTasks) {
        let leased;
        try {
          leased = await this.leases.next();
          if (!leased && (await this.isDrained())) return;
        } catch (err) {
          if (isPermanentBackendError(err)) {
            // Waiting cannot mend it (a corrupt database).
            this.fail(err);
            return;
          }
          this.logger.error(
            { event: 'backend_error', retry_in_ms: idleMs },
            `cannot reach the queue: ${errorMessage(err)}; retrying in ${idleMs} ms`,
          );
          leased = undefined;
        }
        if (!leased) {
          // Tasks are leased elsewhere (or the backend failed): they may come back.
          this.idleSlots += 1;
          await sleep(idleMs, AbortSignal.any([this.broker.pauseSignal, this.settled.signal]));
          this.idleSlots -= 1;
          idleMs = Math.min(idleMs * 2, this.options.maxIdlePollMs);
          continue;
        }
        idleMs = firstIdlePollMs;
        const execution = new TaskExecution(leased, this.context);
        // A stop that came while the lease was in flight: release it untouched.
        if (this.broker.phase !== 'running') execution.cancel();
        this.running.add(execution);
        const settled = execution.execute().then(
          (settlement) => this.countSettled(settlement),
          (err: unknown) => this.fail(err),
        );
        this.countDecided(await execution.decided);
        this.running.delete(execution);
        await settling;
        settling = settled;
      }
    } finally {
      await settling;
    }
  }

  /** Stops, releasing running tasks; `run()` then rejects with `err`. */
  private fail(err: unknown): void {
    this.failure ??= err;
    this.stop();
  }

  /** Whether a slot that found no visible task should end, by the idle policy. */
  private async isDrained(): Promise<boolean> {
    switch (this.options.whenIdle) {
      case 'exit':
        return true;
      case 'poll':
        return false;
      case 'wait-for-leased':
        return (await this.queue.store.size()) === 0;
    }
  }

  /** A settlement was chosen: consecutive failures count now, before the slot takes its next task. */
  private countDecided(settlement: Settlement): void {
    if (settlement === 'succeeded') {
      this.consecutiveFailures = 0;
      return;
    }
    if (!isFailure(settlement)) return;
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures > this.options.maxConsecutiveFailures && this.broker.phase !== 'stopping') {
      this.logger.error(
        { event: 'too_many_failures', consecutive_failures: this.consecutiveFailures },
        `${this.consecutiveFailures} consecutive failures (more than ${this.options.maxConsecutiveFailures}): stopping`,
      );
      this.broker.request('max-failures');
    }
  }

  /** A settlement was written (or could not be: `unsettled`). */
  private countSettled(settlement: Settlement): void {
    this.stats[statOf[settlement]] += 1;
    if (isFailure(settlement)) this.stats.failed += 1;
    // A message may have gone back to the queue: wake idle slots. Aborting
    // costs a DOMException: only when a slot is waiting to be woken.
    if (this.idleSlots > 0) {
      this.settled.abort();
      this.settled = new AbortController();
    }
  }

  private async logStatus(): Promise<void> {
    let size: number | null = null;
    try {
      size = await this.queue.store.size();
    } catch {
      // the status line goes out without the size
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    this.logger.info(
      {
        event: 'worker_heartbeat',
        queue_size: size,
        running: this.running.size,
        rss_bytes: memory.rss,
        cpu_user_us: cpu.user,
        cpu_system_us: cpu.system,
        load: os.loadavg()[0],
        ...this.stats,
      },
      `status: ${this.running.size} running, ${this.stats.succeeded} succeeded, ${this.stats.failed} failed, ` +
        `queue size ${size ?? 'unknown'}, rss ${Math.round(memory.rss / 2 ** 20)} MiB`,
    );
  }
}
