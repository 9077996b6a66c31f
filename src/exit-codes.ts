/**
 * Process exit codes (SPEC §5), chosen here and nowhere else: for an error
 * that ends a command, for the stop that ended a worker, and for `pull`.
 */
import { isJobqError, type PushIncompleteError } from './errors.js';
import type { StopSource } from './signals/broker.js';

export const ExitCode = {
  /** A command failed, a task failed (`pull`, `push --wait`), or too many consecutive failures stopped a worker. */
  failure: 1,
  /** Bad input: a spec, a flag, a line of stdin. */
  usage: 2,
  /** Stopped by SIGINT (128 + 2). */
  sigint: 130,
  /** Stopped by a second SIGTERM (128 + 15). */
  sigterm: 143,
} as const;

/** A worker's exit code by the source of its final stop (0: drained, or asked to stop gracefully). */
const stopExitCodes: Record<StopSource, number> = {
  SIGTERM: ExitCode.sigterm,
  SIGINT: ExitCode.sigint,
  SIGUSR1: 0,
  SIGUSR2: 0,
  'time-limit': 0,
  'max-failures': ExitCode.failure,
  'control-stop': 0,
  'control-drain': 0,
  rebalance: 0,
  abort: 0,
};

export function exitCodeForStop(source: StopSource | undefined): number {
  return source === undefined ? 0 : stopExitCodes[source];
}

/** The exit code for an error that ended a command. */
export function exitCodeForError(err: unknown): number {
  // A push cut short by a signal exits as the signal asks (what was enqueued is in its message).
  if (isJobqError(err) && err.code === 'PUSH_INCOMPLETE' && (err as PushIncompleteError).details.interrupted) {
    return err.cause === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint;
  }
  if (isJobqError(err)) return err.code === 'USAGE' ? ExitCode.usage : ExitCode.failure;
  // oclif's own parse errors (unknown flag, bad option value) carry exit 2.
  const oclifExit = (err as { oclif?: { exit?: unknown } } | null)?.oclif?.exit;
  return typeof oclifExit === 'number' ? oclifExit : ExitCode.failure;
}

/** `pull`: the worker's exit code, else 1 when the task failed. */
export function exitCodeForPull(run: { readonly exitCode: number; readonly stats: { readonly failed: number } }): number {
  if (run.exitCode !== 0) return run.exitCode;
  return run.stats.failed > 0 ? ExitCode.failure : 0;
}
