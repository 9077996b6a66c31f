/**
 * How the CLI reports errors (SPEC §5): one line on stderr, a stack trace only
 * with -v, and an exit code chosen here and nowhere else.
 */
import { errorMessage, isJobqError } from '../errors.js';

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  interrupted: 130,
} as const;

export function exitCodeFor(err: unknown): number {
  if (isJobqError(err)) return err.code === 'USAGE' ? ExitCode.usage : ExitCode.failure;
  // oclif's own parse errors (unknown flag, bad option value) carry exit 2.
  const oclifExit = (err as { oclif?: { exit?: unknown } } | null)?.oclif?.exit;
  return typeof oclifExit === 'number' ? oclifExit : ExitCode.failure;
}

/** The one line a user sees, plus the stack when asked to be verbose. */
export function formatError(err: unknown, verbose: boolean): string {
  const line = `jobq: error: ${errorMessage(err).trim().replace(/\s*\n\s*/g, ' ')}`;
  return verbose && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line;
}

/** Last resort for an error that escaped every handler: report it and exit non-zero. */
export function reportFatal(err: unknown): void {
  process.stderr.write(formatError(err, process.env['JOBQ_DEBUG'] === '1') + '\n');
  process.exit(exitCodeFor(err));
}
