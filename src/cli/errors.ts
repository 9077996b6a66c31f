/**
 * How the CLI reports errors (SPEC §5): one line on stderr, a stack trace only
 * with -v; the exit code comes from src/exit-codes.ts.
 */
import { errorMessage } from '../errors.js';
import { exitCodeForError } from '../exit-codes.js';
import { readEnvironment } from '../options/environment.js';

/** The one line a user sees, plus the stack when asked to be verbose. */
export function formatError(err: unknown, verbose: boolean): string {
  const line = `jobq: error: ${errorMessage(err).trim().replace(/\s*\n\s*/g, ' ')}`;
  return verbose && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line;
}

/** Whether JOBQ_DEBUG=1 asks for stack traces (false when the environment itself is the error). */
export function debugFromEnvironment(): boolean {
  try {
    return readEnvironment().debug;
  } catch {
    return false;
  }
}

/**
 * For an error that reached the entry point (oclif's own, such as an unknown
 * command, or one that escaped every handler): report it and exit. oclif's
 * request to exit (`this.exit(code)`, code EEXIT) is obeyed silently.
 */
export function reportFatal(err: unknown): void {
  if ((err as { code?: unknown } | null)?.code !== 'EEXIT') {
    process.stderr.write(formatError(err, debugFromEnvironment()) + '\n');
  }
  process.exit(exitCodeForError(err));
}
