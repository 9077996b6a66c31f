/**
 * One leased message, from start to settlement (SPEC §6 steps 2–4, §6 step 6).
 *
 * States: leased → running → over → settled. A valid task leased more than
 * `maxDeliveries` times in a row without a settlement skips running: it is
 * dead-lettered at once (its worker kept dying). The lease is heart-beaten
 * from the moment it was leased (it may have waited in the lease buffer)
 * until it is settled; one found lost before the task started is not run.
 * `cancel()` (a stop of §6.1) asks the task to stop and arms the kill timer;
 * a lost lease does the same but marks the task so that it is not settled at
 * all. Once the task is over, a stop no longer changes anything: a
 * task that succeeded just before the stop came is completed, not run again.
 * The settlement follows from how the task ended: cancelled → released
 * unchanged; lease lost → nothing; success → deleted; failure → retried with
 * one retry fewer, or dead-lettered. `decided` resolves as soon as the
 * settlement is chosen, before it is written, so that the slot can take its
 * next task while the write goes on; `execute()` resolves once it is written.
 * A task that ran is recorded in the queue's history with its settlement
 * (when the context has an `attempts` recorder), and listed in `active`
 * while it runs. With a processor that takes tasks ahead, a task runs only
 * once the processor says it started; one stopped before that never ran,
 * and goes back to the queue with no record and no event.
 */
import type { Lease } from '../backends/backend.js';
import type { AttemptOutcome, AttemptRecord } from '../backends/fleet.js';
import { errorMessage, hasCode, isPermanentBackendError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Processor, RunningTask, TaskOutcome } from '../processors/processor.js';
import type { JobQueue, LeasedMessage } from '../queue/job-queue.js';
import type { Task } from '../task/task.js';
import type { HeldLease } from './lease-buffer.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { ResolvedLoopOptions } from './options.js';
import type { TaskOutput } from '../log/task-output.js';
import { OutputTail } from './output-tail.js';
import type { ActiveTasks } from './active-tasks.js';
import { attemptRecord, maxCommandChars, type AttemptRecorder } from './attempt-record.js';
import { emitEvent, type EventLevel, type WorkerEventFields, type WorkerEventListener } from './worker-events.js';

/**
 * How a leased message ended: `released` went back unchanged after a stop,
 * `lease-lost` was left alone (another worker may own it), `unsettled` could
 * not be written (the message reappears when its lease expires).
 */
export type Settlement =
  | 'succeeded'
  | 'retried'
  | 'dead-lettered'
  | 'delivery-limit'
  | 'released'
  | 'lease-lost'
  | 'invalid'
  | 'unsettled';

export interface ExecutionContext {
  readonly queue: JobQueue;
  readonly processor: Processor;
  readonly options: Pick<ResolvedLoopOptions, 'killTimeoutMs' | 'maxDeliveries'>;
  readonly logger: Logger;
  /** Where the task's output lines go. */
  readonly output: TaskOutput;
  /** The longest description of what a task runs in a log message (the full one is in the JSON fields). */
  readonly describeWidth: number;
  /** The tasks running now (for the worker's live row). */
  readonly active: ActiveTasks;
  /** Who records finished attempts in the history; undefined: none are recorded. */
  readonly attempts: AttemptRecorder | undefined;
  /** Hears the task events as they are logged (the worker's telemetry); undefined: nobody. */
  readonly events: WorkerEventListener | undefined;
}

export class TaskExecution {
  private running: RunningTask | undefined;
  private cancelled = false;
  /** The task has ended: a stop from now on cannot reach it and does not change how it settles. */
  private over = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly leased: LeasedMessage;
  private readonly keeper: LeaseKeeper | undefined;
  private readonly tail = new OutputTail(100);
  /** The task's fields on every task event: what runs it and what it runs. */
  private fields: { task_id: string; kind: string; command: string } | undefined;
  private startedAt = 0;
  /** When the task started, epoch ms (undefined until it does). */
  private startedWall: number | undefined;
  /** The stop that cancelled the task, for its history record. */
  private stoppedBy: string | null = null;
  /** The heartbeat's stop, once asked for: the task's end and its settlement both wait for it. */
  private heartbeatStopped: Lease | Promise<Lease> | undefined;
  /** Resolves with the settlement once it is chosen (before it is written). */
  readonly decided: Promise<Settlement>;
  private decide!: (settlement: Settlement) => void;

  constructor(
    held: HeldLease,
    private readonly context: ExecutionContext,
  ) {
    this.leased = held.message;
    this.keeper = held.keeper;
    this.decided = new Promise((resolve) => (this.decide = resolve));
  }

  /** A stop of §6.1: SIGTERM the task, SIGKILL it after the kill timeout. Idempotent. */
  cancel(): void {
    if (this.cancelled || this.over) return;
    this.cancelled = true;
    this.stoppedBy = this.context.attempts?.stopCause() ?? null;
    this.stopRunning();
  }

  private stopRunning(): void {
    if (!this.running || this.killTimer) return;
    this.running.stop();
    this.killTimer = setTimeout(() => this.running?.kill(), this.context.options.killTimeoutMs);
    this.killTimer.unref();
  }

  /** SIGKILL at once (the third interrupt). */
  kill(): void {
    if (this.over) return;
    this.cancelled = true;
    this.running?.kill();
  }

  execute(): Promise<Settlement> {
    // Every way through decides, but an unexpected throw: the slot must not wait for ever.
    return this.runAndSettle().catch((err: unknown) => {
      this.decide('unsettled');
      throw err;
    });
  }

  private async runAndSettle(): Promise<Settlement> {
    const { task, lease } = this.leased;
    const { queue } = this.context;
    if (this.keeper?.isLost) return this.leaseLost();
    if (!task) {
      const reason = this.leased.invalid.message;
      this.event('error', { event: 'task_invalid', message_id: lease.messageId }, `invalid message ${lease.messageId}: ${reason}; moved to ${queue.name}-failed`);
      return this.settle((latest) => queue.deadLetter(latest, null, { error: `invalid task: ${reason}` }), 'invalid');
    }
    if (lease.deliveries > this.context.options.maxDeliveries) return this.giveUpUndeliverable(task);
    if (this.cancelled) return this.settle((latest) => queue.release(latest), 'released');
    this.keeper?.whenLost(() => this.onLeaseLost(task));
    const outcome = await this.run(task);
    this.over = true;
    this.context.active.delete(this);
    if (this.killTimer) clearTimeout(this.killTimer);
    const stopped = this.stopHeartbeat();
    if (stopped instanceof Promise) await stopped;
    if (this.keeper?.isLost) return this.leaseLost(outcome);
    if (this.cancelled && this.startedWall === undefined) return this.settle((latest) => queue.release(latest), 'released');
    if (this.cancelled && outcome.endedBeforeStop !== true) {
      this.event('info', { event: 'task_canceled', ...this.endFields(outcome) }, `task ${task.id} was stopped and goes back to the queue`);
      return this.settle((latest) => queue.release(latest, this.attempt('released', outcome)), 'released');
    }
    if (outcome.ok) {
      if (this.heard('info')) {
        const ended = this.endFields(outcome);
        this.event('info', { event: 'task_success', ...ended }, `task ${task.id} succeeded in ${ended.duration_s.toFixed(1)} s`);
      }
      return this.settle((latest) => queue.succeed(latest, task, outcome.result, this.attempt('succeeded', outcome)), 'succeeded');
    }
    const ended = this.endFields(outcome);
    this.event('warn', { event: 'task_failure', ...ended, error: outcome.error }, `task ${task.id} failed: ${outcome.error}`);
    if (task.numRetries > 0) {
      this.event(
        'info',
        { event: 'task_retry', ...ended, retries_left: task.numRetries - 1 },
        `task ${task.id} goes back to the queue with ${task.numRetries - 1} retries left`,
      );
      return this.settle((latest) => queue.retry(latest, task, this.attempt('retried', outcome)), 'retried');
    }
    this.event('error', { event: 'task_give_up', ...ended }, `task ${task.id} failed for good: moved to ${queue.name}-failed`);
    return this.settle(
      (latest) =>
        queue.deadLetter(latest, task, {
          error: outcome.detail ? `${outcome.error}\n${outcome.detail}` : outcome.error,
          output: this.tail.toArray(),
          exitCode: outcome.exitCode ?? null,
        }, this.attempt('dead-lettered', outcome)),
      'dead-lettered',
    );
  }

  /** A lease found lost (another worker may hold the message now): the attempt ends unsettled. */
  private leaseLost(outcome?: TaskOutcome): Settlement {
    this.decide('lease-lost');
    const attempt = outcome && this.startedWall !== undefined && this.attempt('lease-lost', outcome);
    if (attempt) this.context.queue.fleet.record(attempt);
    this.event(
      'warn',
      { event: 'task_lock_lost', task_id: this.leased.task?.id ?? null, ...this.fields, stage: 'ended' },
      `${this.subject} lost its lease: cancelled, not settled`,
    );
    return 'lease-lost';
  }

  /** What the logs call the leased message: its task, or the message when it is not a valid task. */
  private get subject(): string {
    const { task, lease } = this.leased;
    return task ? `task ${task.id}` : `message ${lease.messageId}`;
  }

  /**
   * Stops the heartbeat (once); the newest lease, at once when no extension
   * is in flight (most tasks end before their first), else once it is done.
   */
  private stopHeartbeat(): Lease | Promise<Lease> {
    this.heartbeatStopped ??= this.keeper ? (this.keeper.stopNow() ?? this.keeper.stop()) : this.leased.lease;
    return this.heartbeatStopped;
  }

  /**
   * A task whose earlier deliveries all ended unsettled (its worker died while
   * running it) is dead-lettered instead of run again, so that it cannot crash
   * workers forever. Not a failure of this worker.
   */
  private async giveUpUndeliverable(task: Task): Promise<Settlement> {
    const { queue } = this.context;
    const { lease } = this.leased;
    const error = `delivered ${lease.deliveries - 1} times without being settled (its worker died each time)`;
    this.event(
      'error',
      { event: 'task_delivery_limit', task_id: task.id, deliveries: lease.deliveries - 1 },
      `task ${task.id} was ${error}: moved to ${queue.name}-failed`,
    );
    const attempt = this.attempt('dead-lettered', undefined, error);
    return this.settle((latest) => queue.deadLetter(latest, task, { error }, attempt), 'delivery-limit');
  }

  /** The fields of a task event once the task has ended. */
  private endFields(outcome: TaskOutcome): {
    task_id: string;
    duration_s: number;
    exit_code: number | null;
    signal: string | null;
  } {
    const failed = outcome.ok ? undefined : outcome;
    return {
      task_id: this.leased.task?.id ?? '',
      ...this.fields,
      duration_s: (performance.now() - this.startedAt) / 1000,
      exit_code: outcome.ok ? 0 : (failed?.exitCode ?? null),
      signal: failed?.signal ?? null,
    };
  }

  /** The record of this attempt, ending now (heard by the recorder's observer); undefined when it goes to no history. */
  private attempt(outcome: AttemptOutcome, ended: TaskOutcome | undefined, error?: string): AttemptRecord | undefined {
    const { attempts, processor } = this.context;
    const task = this.leased.task;
    if (!attempts || !task) return undefined;
    const record = attemptRecord(attempts, {
      taskId: task.id,
      kind: this.fields?.kind ?? processor.name,
      command: this.fields?.command ?? processor.describe?.(task) ?? task.kwargsJson,
      outcome,
      startedAt: this.startedWall,
      durationMs: this.startedWall === undefined ? 0 : performance.now() - this.startedAt,
      ended,
      stop: this.stoppedBy,
      ...(error !== undefined && { error }),
      output: this.tail.toArray(),
    });
    attempts.observe?.(record);
    return attempts.keep ? record : undefined;
  }

  /**
   * Whether an event at `level` is logged or listened to: the two events of
   * every task (its start and its success) are not even made when it is not
   * (`-q`), as they cost a busy worker a few percent.
   */
  private heard(level: EventLevel): boolean {
    return this.context.events !== undefined || this.context.logger.isLevelEnabled(level);
  }

  /** Logs a task event, and hands it to the context's listener. */
  private event(level: EventLevel, fields: WorkerEventFields, message: string): void {
    emitEvent(this.context.logger, this.context.events, level, fields, message);
  }

  /**
   * Starts the task; its outcome once it has ended. (Not an async function:
   * its promise is the processor's own.) A processor that takes tasks ahead
   * says when the task starts; any other starts it now.
   */
  private run(task: Task): Promise<TaskOutcome> {
    const { queue, processor, output } = this.context;
    const command = processor.describe?.(task) ?? task.kwargsJson;
    this.fields = { task_id: task.id, kind: processor.name, command };
    if (!processor.takesAhead) this.started(task, command);
    try {
      this.running = processor.start({
        task,
        queueName: queue.name,
        log: (line, stream) => {
          this.tail.push(line);
          output.line(task.id, stream, line);
        },
        started: () => this.started(task, command),
      });
    } catch (err) {
      return Promise.resolve({ ok: false, error: `could not start the task: ${errorMessage(err)}` });
    }
    // A stop that came while the task was starting.
    if (this.cancelled) this.stopRunning();
    return this.running.done;
  }

  /** The task starts now: its start is logged, timed and listed. */
  private started(task: Task, command: string): void {
    if (this.startedWall !== undefined) return;
    const { describeWidth, active } = this.context;
    if (this.heard('info')) {
      const shown = command.length > describeWidth ? `${command.slice(0, Math.max(0, describeWidth - 1))}…` : command;
      this.event('info', { event: 'task_start', ...this.fields }, `task ${task.id} started: ${shown}`);
    }
    this.startedAt = performance.now();
    this.startedWall = Date.now();
    active.add(this, { taskId: task.id, command: command.slice(0, maxCommandChars), since: this.startedWall });
  }

  private onLeaseLost(task: Task): void {
    this.event(
      'warn',
      { event: 'task_lock_lost', task_id: task.id, stage: 'running' },
      `task ${task.id}: its lease is gone, stopping it`,
    );
    this.cancel();
  }

  /**
   * Runs a settle call with the newest lease (the heartbeat stopped first); a
   * failure is logged, never thrown: the message reappears when its lease expires.
   */
  private async settle(call: (lease: Lease) => Promise<void>, settlement: Settlement): Promise<Settlement> {
    this.decide(settlement);
    try {
      const latest = this.stopHeartbeat();
      await call(latest instanceof Promise ? await latest : latest);
      return settlement;
    } catch (err) {
      if (isPermanentBackendError(err)) {
        // The queue itself is gone (deleted, or its database replaced): nothing will come back; the worker stops.
        this.event('error', { event: 'settle_failed', task_id: this.leased.task?.id ?? null }, `could not settle ${this.subject} (${settlement}): ${errorMessage(err)}`);
        throw err;
      }
      const why = hasCode(err, 'LEASE_LOST') ? 'its lease is gone' : errorMessage(err);
      this.event(
        'error',
        { event: 'settle_failed', task_id: this.leased.task?.id ?? null },
        `could not settle ${this.subject} (${settlement}): ${why}; it will be visible again when its lease expires`,
      );
      return 'unsettled';
    }
  }
}
