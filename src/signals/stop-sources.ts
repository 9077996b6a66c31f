/**
 * Wires the stop sources of SPEC §6.1 to a broker: process signals (as
 * JOBQ_SIGNAL_MAP says), the PID file that lets `jobq signal` find the
 * worker, the clouds' preemption notices, the control channel (`jobq
 * downscale`), the time limit and an AbortSignal. Each
 * source is a small object; `attachStopSources` starts the ones the options
 * ask for and hands back their cleanup steps: process signals apart, as they
 * are released last, once the worker has nothing left to do.
 */
import type { CleanupStep } from '../cleanup.js';
import type { Logger } from '../log/logger.js';
import type { JobqEnvironment } from '../options/environment.js';
import { durationOption } from '../options/validate.js';
import type { StopSource } from './broker.js';
import { ControlListener } from './control-channel.js';
import { writePidFile } from './pid-files.js';
import { forwardProcessSignals } from './process-signals.js';
import { resolveNoticeOptions, type NoticeOptions, type ResolvedNoticeOptions } from './notices/options.js';
import { readDmiIdentity } from './notices/platform.js';
import { NoticeWatch } from './notices/watch.js';
import type { NoticeSink } from './notices/notice.js';
import { parseSignalMap, signalMapFromEnv, type SignalMap } from './signal-map.js';
import { startTimeLimit } from './time-limit.js';

export interface StopSourceOptions {
  /** Stop gracefully after this long, ms (default JOBQ_TIME_LIMIT, else 1 day). */
  timeLimitMs?: number;
  /** How long to brace for a preemption after SIGTERM, ms (default JOBQ_PREEMPTION_TIMEOUT, else 120 s). */
  preemptionTimeoutMs?: number;
  /**
   * Install handlers for SIGTERM, SIGINT, SIGUSR1, SIGUSR2 (default false; the
   * CLI sets it). They stay, ignoring late signals, until the process exits:
   * meant for a process whose job is this worker.
   */
  handleSignals?: boolean;
  /** Keep a PID file for `jobq signal` (default false; the CLI sets it). */
  writePidFile?: boolean;
  /**
   * Which clouds' preemption notices to watch for and how (default: those of
   * the platform this machine is recognised as, from JOBQ_PREEMPTION_NOTICES
   * and the endpoint variables; `{ sources: 'off' }` watches none).
   */
  preemptionNotices?: NoticeOptions;
  /** What process signals mean, as JOBQ_SIGNAL_MAP writes it: `USR1=preempt,…` (default JOBQ_SIGNAL_MAP). */
  signalMap?: string;
  /** How often to look for control messages (`jobq downscale`), ms (default JOBQ_CONTROL_INTERVAL, else 10 s); 0 turns it off. */
  controlIntervalMs?: number;
  /** Aborting stops the worker like SIGUSR2: running tasks are stopped and released. */
  signal?: AbortSignal;
}

export interface ResolvedStopSourceOptions {
  readonly timeLimitMs: number;
  readonly preemptionTimeoutMs: number;
  readonly handleSignals: boolean;
  readonly writePidFile: boolean;
  readonly preemptionNotices: ResolvedNoticeOptions;
  readonly signalMap: SignalMap;
  readonly controlIntervalMs: number;
  readonly signal: AbortSignal | undefined;
}

export const stopSourceDefaults = {
  timeLimitMs: 86_400_000,
  preemptionTimeoutMs: 120_000,
  controlIntervalMs: 10_000,
} as const;

export function resolveStopSourceOptions(
  options: StopSourceOptions,
  environment: JobqEnvironment,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedStopSourceOptions {
  const d = stopSourceDefaults;
  return {
    timeLimitMs: durationOption(options.timeLimitMs ?? environment.timeLimitMs ?? d.timeLimitMs, 'timeLimitMs'),
    preemptionTimeoutMs: durationOption(
      options.preemptionTimeoutMs ?? environment.preemptionTimeoutMs ?? d.preemptionTimeoutMs,
      'preemptionTimeoutMs',
    ),
    handleSignals: options.handleSignals ?? false,
    writePidFile: options.writePidFile ?? false,
    // Read only when notices may be watched: it looks at the firmware's identity files.
    preemptionNotices: resolveNoticeOptions(
      options.preemptionNotices ?? {},
      env,
      options.preemptionNotices?.sources === 'off' ? { dir: '(not read)' } : readDmiIdentity(),
    ),
    signalMap: options.signalMap === undefined ? signalMapFromEnv(env) : parseSignalMap(options.signalMap, 'signalMap'),
    controlIntervalMs: durationOption(
      options.controlIntervalMs ?? environment.controlIntervalMs ?? d.controlIntervalMs,
      'controlIntervalMs',
    ),
    signal: options.signal,
  };
}

/** What the sources act on: the broker, and the worker's queue for its name and control channel. */
export interface StopSourceTarget {
  readonly broker: NoticeSink & {
    readonly phase: string;
    request(source: StopSource): void;
  };
  readonly queueName: string;
  takeControl(): Promise<string | undefined>;
  readonly logger: Logger;
}

/** Where the attached sources' cleanup goes: `sources` to run when the worker stops, `signals` when it has nothing left to do. */
export interface StopSourceCleanup {
  readonly sources: CleanupStep[];
  readonly signals: CleanupStep[];
}

/**
 * Starts the sources `options` ask for, adding each one's cleanup to `into`
 * as soon as it is started: if one cannot start (a PID folder others can
 * write to), the caller's cleanup still ends those started before it.
 */
export function attachStopSources(target: StopSourceTarget, options: ResolvedStopSourceOptions, into: StopSourceCleanup): void {
  const { broker, logger } = target;
  const steps = into.sources;
  const signals = into.signals;
  if (options.handleSignals) {
    const forwarding = forwardProcessSignals(broker, {
      map: options.signalMap,
      onSignal: (signal, action) => logger.warn({ event: 'signal', signal, action }, `received ${signal} (${action})`),
      untilExit: true,
    });
    signals.push({ name: 'process signals', run: () => forwarding.release() });
  }
  const abortSignal = options.signal;
  if (abortSignal) {
    const onAbort = (): void => broker.request('abort');
    if (abortSignal.aborted) onAbort();
    abortSignal.addEventListener('abort', onAbort, { once: true });
    steps.push({ name: 'abort signal', run: () => abortSignal.removeEventListener('abort', onAbort) });
  }
  if (options.writePidFile) steps.push({ name: 'PID file', run: writePidFile(target.queueName) });
  if (options.preemptionNotices.detectors.length > 0) {
    const watch = new NoticeWatch(options.preemptionNotices.detectors, { sink: broker, logger });
    watch.start();
    steps.push({ name: 'preemption notices', run: () => watch.stop() });
  }
  if (options.controlIntervalMs > 0) {
    const control = new ControlListener({
      take: () => target.takeControl(),
      intervalMs: options.controlIntervalMs,
      logger,
      isListening: () => broker.phase === 'running',
      onAction: (action) => broker.request(action === 'drain' ? 'control-drain' : 'control-stop'),
    }).start();
    steps.push({ name: 'control channel', run: () => control.stop() });
  }
  steps.push({ name: 'time limit', run: startTimeLimit(options.timeLimitMs, broker, logger) });
}
