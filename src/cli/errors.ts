/**
 * How the CLI reports errors (SPEC §5): one line on stderr, a stack trace only
 * with -v, and an exit code chosen here and nowhere else.
 */
import { errorMessage, isJobqError, type PushIncompleteError } from '../errors.js';

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
  terminated: 143,
} as const;

export function exitCodeFor(err: unknown): number {
  if (isJobqError(err) && err.code === 'PUSH_INCOMPLETE' && (err as PushIncompleteError).details.interrupted) {
    return err.cause === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted;
  }
  if (isJobqError(err)) return err.code === 'USAGE' ? ExitCode.usage : ExitCode.failure;
  // oclif's own parse errors (unknown flag, bad option value) carry exit 2.
  const oclifExit = (err as { oclif?: { exit?: unknown } } | null)?.oclif?.exit;
  return typeof oclifExit === 'number' ? oclifExit : ExitCode.failure;
}

/** The one line a user sees, plus the stack when asked to be verbose. */
export function formatError(err: unknown, verbose: boolean): string {
  const message = isJobqError(err) ? err.description : errorMessage(err);
  const line = `jobq: error: ${message.trim().replace(/\s*\n\s*/g, ' ')}`;
  return verbose && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line;
}

/**
 * For an error that reached the entry point (oclif's own, such as an unknown
 * command, or one that escaped every handler): report it and exit. oclif's
 * request to exit (`this.exit(code)`, code EEXIT) is obeyed silently.
 */
export function reportFatal(err: unknown): void {
  if ((err as { code?: unknown } | null)?.code !== 'EEXIT') {
    process.stderr.write(formatError(err, process.env['JOBQ_DEBUG'] === '1') + '\n');
  }
  process.exit(exitCodeFor(err));
}
