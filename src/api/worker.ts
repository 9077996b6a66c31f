/**
 * A worker (SPEC §6): the worker loop on a queue, run through a processor,
 * with the stop sources of §6.1 wired to its signal broker. This is where the
 * parts meet; each part knows only its own job (src/worker/ the loop and
 * settling, src/signals/ the broker and the stop sources, src/processors/
 * the tasks).
 *
 * Life: `run()` starts the loop once (a second call returns the same run)
 * and resolves when the queue is drained or a stop has ended it, after
 * `close()` has cleaned up. `close()` may be called at any time, as often as
 * wanted: it stops a running worker (as SIGUSR2: running tasks are stopped
 * and released), waits for its slots to end, then runs every cleanup step
 * even if one fails — leases not taken go back, the stop sources end, the
 * broker, the processor (with `closeProcessor`) — and releases the process
 * signal handlers last; failures come together as one AggregateError.
 *
 * While it runs, the worker keeps its live row in the queue's store and
 * records each finished attempt in the queue's history (SPEC §10; where the
 * backend keeps them, unless turned off), and prunes that history now and
 * then. A failure to write them is logged once per kind and never stops it.
 * Metrics and telemetry (Prometheus, OTLP, Azure Monitor) run only when the
 * options ask for them, from its first step to after its last event.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { runCleanups, type CleanupStep } from '../cleanup.js';
import { UsageError, errorMessage } from '../errors.js';
import { exitCodeForStop } from '../exit-codes.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { discardOutput, taskOutput, type TextSink } from '../log/task-output.js';
import { integerOption } from '../options/validate.js';
import { readEnvironment, type JobqEnvironment } from '../options/environment.js';
import type { Processor } from '../processors/processor.js';
import type { JobQueue } from '../queue/job-queue.js';
import { SignalBroker, type StopSource } from '../signals/broker.js';
import {
  attachStopSources,
  resolveStopSourceOptions,
  type ResolvedStopSourceOptions,
  type StopSourceOptions,
} from '../signals/stop-sources.js';
import type { WorkerPhase } from '../backends/fleet.js';
import type { NoticeSource } from '../signals/notices/notice.js';
import { jobqVersion } from '../version.js';
import type { AttemptRecorder } from '../worker/attempt-record.js';
import { resolveFleetOptions, type FleetOptions, type ResolvedFleetOptions } from '../worker/fleet-options.js';
import { WorkerLoop, type WorkerStats } from '../worker/loop.js';
import { emitEvent, type EventLevel, type WorkerEventFields } from '../worker/worker-events.js';
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from '../metrics/options.js';
import type { TelemetrySource } from '../metrics/source.js';
import { startFleetRecords } from './worker-fleet.js';
import { WorkerTelemetry } from './worker-telemetry.js';
import { resolveLoopOptions, type LoopOptions, type ResolvedLoopOptions } from '../worker/options.js';
import { queueParts, type QueueParts } from '../worker/queue-parts.js';

/** The most tasks a processor may take ahead per slot (`Processor.takesAhead`). */
const maxTakesAhead = 4;

export interface WorkerOptions extends LoopOptions, StopSourceOptions, FleetOptions, MetricsOptions {
  /** Close the processor as part of the worker's close (default false: its owner closes it). */
  closeProcessor?: boolean;
  /** Where logs go (default: nowhere). Every line carries host, pid, worker_id and queue. */
  logger?: Logger;
  /**
   * Where the tasks' output goes: stdout lines to `stdout` as written, stderr
   * lines to `stderr`, tagged with the task's short id while several run at
   * once (default: nowhere; the CLI gives its own stdout and stderr).
   */
  taskOutput?: { stdout: TextSink; stderr: TextSink };
  /** The longest description of what a task runs in a log message (default 500 characters). */
  describeWidth?: number;
  /** This worker's id in logs (default `HOST-PID-XXXX`). */
  workerId?: string;
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

const statusIntervalMs = 5 * 60_000;

/** Stops whose running tasks finish: the row says `draining` for them. */
const drainingStops = new Set<StopSource>(['SIGUSR1', 'control-drain', 'rebalance']);

export class Worker {
  readonly id: string;
  readonly options: ResolvedLoopOptions & ResolvedStopSourceOptions & ResolvedFleetOptions & ResolvedMetricsOptions;
  private readonly broker: SignalBroker;
  private readonly logger: Logger;
  private readonly parts: QueueParts;
  private readonly loop: WorkerLoop;
  private readonly closeProcessor: boolean;
  private result: Promise<WorkerResult> | undefined;
  /** Settles when the loop's slots have ended (undefined before run()). */
  private loopDone: Promise<void> | undefined;
  private loopEnded = false;
  private closing: Promise<void> | undefined;
  /** Cleanup steps of what run() started, in order, and the signal handlers' release, which comes last. */
  private readonly cleanups: CleanupStep[] = [];
  private readonly finalCleanups: CleanupStep[] = [];
  /** The preemption notices that stand (the stop a released task's history record names). */
  private readonly notices = new Set<NoticeSource>();
  /** The metrics and telemetry the options ask for (src/metrics/). */
  private readonly telemetry: WorkerTelemetry;

  constructor(
    private readonly queue: JobQueue,
    private readonly processor: Processor,
    options: WorkerOptions = {},
    environment: JobqEnvironment = readEnvironment(),
  ) {
    this.options = {
      ...resolveLoopOptions(options, environment),
      ...resolveStopSourceOptions(options, environment),
      ...resolveFleetOptions(options, environment),
      ...resolveMetricsOptions(options, environment),
    };
    const keepHistory = this.options.history && queue.fleet.keepsHistory;
    this.closeProcessor = options.closeProcessor ?? false;
    this.id = options.workerId ?? `${os.hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.logger = (options.logger ?? silentLogger()).child({
      host: os.hostname(),
      pid: process.pid,
      worker_id: this.id,
      queue: queue.name,
    });
    this.telemetry = new WorkerTelemetry(this.options, this.logger);
    this.broker = new SignalBroker({
      preemptionTimeoutMs: this.options.preemptionTimeoutMs,
      preemptionMarginMs: this.options.preemptionNotices.marginMs,
      drainOnRebalance: this.options.preemptionNotices.drainOnRebalance,
      onListenerError: (err) => this.logger.error(`stop handling failed: ${errorMessage(err)}`),
    });
    this.parts = queueParts(queue, processor, {
      options: this.options,
      isRunning: () => this.broker.phase === 'running',
      logger: this.logger,
      output: options.taskOutput ? taskOutput(options.taskOutput, () => this.loop.heldCount > 1) : discardOutput,
      describeWidth: integerOption(options.describeWidth ?? 500, 'describeWidth', 10),
      attempts: keepHistory || this.telemetry.wanted ? this.attemptRecorder(keepHistory) : undefined,
      events: this.telemetry.wanted ? this.telemetry.events : undefined,
    });
    this.loop = new WorkerLoop(this.parts, this.broker, {
      slots: this.options.numWorkers * (1 + integerOption(processor.takesAhead ?? 0, 'takesAhead', 0, maxTakesAhead)),
      maxConsecutiveFailures: this.options.maxConsecutiveFailures,
      maxIdlePollMs: this.options.maxIdlePollMs,
      logger: this.logger,
    });
  }

  /** How many tasks run right now. */
  get runningCount(): number {
    return this.parts.runningCount;
  }

  /** What the worker does now, as its live row says it. */
  get phase(): WorkerPhase {
    const phase = this.broker.phase;
    if (phase !== 'stopping') return phase;
    const source = this.broker.stopSource;
    return source !== undefined && drainingStops.has(source) ? 'draining' : 'stopping';
  }

  /** The worker's identity on history records, the stop in force when a task is cancelled, and where records go. */
  private attemptRecorder(keep: boolean): AttemptRecorder {
    return {
      workerId: this.id,
      host: os.hostname(),
      pid: process.pid,
      keep,
      ...(this.telemetry.wanted && { observe: this.telemetry.attempt }),
      stopCause: () => {
        if (this.broker.phase === 'stopping') return this.broker.stopSource ?? null;
        if (this.broker.phase === 'braced') return [...this.notices][0] ?? 'SIGTERM';
        return null;
      },
    };
  }

  get stats(): Readonly<WorkerStats> {
    return this.loop.stats;
  }

  /**
   * Runs until the queue is drained or a stop, then closes; calling it again
   * returns the same run. Rejects when the backend fails in a way retrying
   * cannot mend (a corrupt database file), after stopping and releasing running tasks.
   */
  run(): Promise<WorkerResult> {
    this.result ??= this.runOnce();
    return this.result;
  }

  /** Asks the worker to stop (as SIGUSR2 by default: running tasks are stopped and released). */
  stop(source: StopSource = 'abort'): void {
    this.broker.request(source);
  }

  /** Stops the worker if it runs, waits for it, and cleans up (see the top of this file). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    if (this.loopDone) {
      // A worker still running is stopped; one that has drained keeps `drained` as its reason.
      if (!this.loopEnded) this.stop();
      await this.loopDone.catch(() => undefined);
    }
    const steps: CleanupStep[] = [
      { name: 'leases', run: () => this.parts.close() },
      ...this.cleanups,
      { name: 'broker', run: () => this.broker.dispose() },
    ];
    if (this.closeProcessor) steps.push({ name: `${this.processor.name} processor`, run: () => this.processor.close() });
    await runCleanups([...steps, ...this.finalCleanups], 'closing the worker');
  }

  private async runOnce(): Promise<WorkerResult> {
    if (this.closing) throw new UsageError('this worker is closed: make a new one to run again');
    const metricsUrl = await this.telemetry.start(this.telemetrySource());
    if (metricsUrl !== undefined) this.event('info', { event: 'metrics_listen', url: metricsUrl }, `Prometheus metrics at ${metricsUrl}`);
    try {
      return await this.runLoop();
    } finally {
      await this.telemetry.stop();
    }
  }

  private async runLoop(): Promise<WorkerResult> {
    this.broker.subscribe({
      changed: (phase, reason) => this.event('warn', { event: 'worker_phase', phase }, reason),
      notice: (source, notice) => {
        if (notice === undefined) this.notices.delete(source);
        else this.notices.add(source);
        if (notice === undefined) {
          this.event('warn', { event: 'preemption_cleared', source }, `${source} preemption notice withdrawn`);
          return;
        }
        const deadline = notice.deadline?.toISOString() ?? null;
        this.event(
          'warn',
          { event: 'preemption_detected', source, deadline, detail: notice.detail },
          `${source} preemption notice: ${notice.detail}${deadline === null ? '' : ` (the machine goes at ${deadline})`}`,
        );
      },
    });
    try {
      attachStopSources(
        { broker: this.broker, queueName: this.queue.name, takeControl: () => this.queue.takeControl(), logger: this.logger },
        this.options,
        { sources: this.cleanups, signals: this.finalCleanups },
      );
    } catch (err) {
      // Whatever did start (process signal handlers, a poller) ends with the rest.
      await this.close().catch((cleanup: unknown) => this.logger.error({ event: 'cleanup_failed' }, errorMessage(cleanup)));
      throw err;
    }
    const status = setInterval(() => void this.logStatus(), statusIntervalMs);
    status.unref();
    this.cleanups.push({ name: 'status timer', run: () => clearInterval(status) });
    this.cleanups.push(
      ...startFleetRecords(this.queue.fleet, this.options, this.logger, {
        workerId: this.id,
        host: os.hostname(),
        pid: process.pid,
        slots: this.options.numWorkers,
        version: jobqVersion,
        environment: this.options.environmentName,
        intervalMs: this.options.workerRowIntervalMs,
        phase: () => this.phase,
        running: () => this.parts.running(),
        counts: () => ({ succeeded: this.loop.stats.succeeded, failed: this.loop.stats.failed }),
      }),
    );

    this.event(
      'info',
      { event: 'worker_start', queue: this.queue.name, slots: this.options.numWorkers },
      `worker on ${this.queue.name} (${this.queue.description}) with ${this.options.numWorkers} slot(s)`,
    );
    this.loopDone = this.loop.run().finally(() => {
      this.loopEnded = true;
    });
    let failure: { error: unknown } | undefined;
    try {
      await this.loopDone;
    } catch (err) {
      failure = { error: err };
    }
    try {
      await this.close();
    } catch (err) {
      if (failure) this.logger.error({ event: 'cleanup_failed' }, errorMessage(err));
      else failure = { error: err };
    }
    if (failure) throw failure.error;
    const source = this.broker.stopSource;
    const stats = { ...this.loop.stats };
    const result: WorkerResult = { exitCode: exitCodeForStop(source), reason: source ?? 'drained', stats, leased: this.parts.leased };
    this.event(
      'info',
      { event: 'worker_stop', reason: result.reason, exit_code: result.exitCode, ...stats },
      `worker done (${result.reason}): ${stats.succeeded} succeeded, ${stats.failed} failed, ${stats.released} released`,
    );
    return result;
  }

  /** Logs an event with an `event` field, and hands it to the telemetry. */
  private event(level: EventLevel, fields: WorkerEventFields, message: string): void {
    emitEvent(this.logger, this.telemetry.events, level, fields, message);
  }

  /** What the telemetry reads of this worker. */
  private telemetrySource(): TelemetrySource {
    return {
      queue: this.queue.name,
      workerId: this.id,
      host: os.hostname(),
      environment: this.options.environmentName,
      version: jobqVersion,
      slots: this.options.numWorkers,
      running: () => this.runningCount,
      leasesHeld: () => this.loop.heldCount + this.parts.buffered,
      phase: () => this.phase,
      preempted: () => this.broker.phase === 'braced' || this.notices.size > 0,
      depth: async () => {
        const [size, deadLetters] = await Promise.all([this.queue.size(), this.queue.deadLetterCount()]);
        return { size, deadLetters };
      },
    };
  }

  private async logStatus(): Promise<void> {
    let size: number | null = null;
    try {
      size = await this.queue.size();
    } catch {
      // the status line goes out without the size
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const stats = this.loop.stats;
    this.event(
      'info',
      {
        event: 'worker_heartbeat',
        queue_size: size,
        running: this.runningCount,
        rss_bytes: memory.rss,
        cpu_user_us: cpu.user,
        cpu_system_us: cpu.system,
        load: os.loadavg()[0],
        ...stats,
      },
      `status: ${this.runningCount} running, ${stats.succeeded} succeeded, ${stats.failed} failed, ` +
        `queue size ${size ?? 'unknown'}, rss ${Math.round(memory.rss / 2 ** 20)} MiB`,
    );
  }
}
