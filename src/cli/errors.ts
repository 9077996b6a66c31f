/**
 * How the CLI reports errors (SPEC §5): one line on stderr, a stack trace only
 * with -v; the exit code comes from src/exit-codes.ts.
 */
import { errorMessage } from '../errors.js';
import { exitCodeForError } from '../exit-codes.js';

/** The one line a user sees, plus the stack when asked to be verbose. */
export function formatError(err: unknown, verbose: boolean): string {
  const line = `jobq: error: ${errorMessage(err).trim().replace(/\s*\n\s*/g, ' ')}`;
  return verbose && err instanceof Error && err.stack ? `${line}\n${err.stack}` : line;
}

/** Last resort for an error that escaped every handler: report it and exit non-zero. */
export function reportFatal(err: unknown, verbose: boolean): void {
  process.stderr.write(formatError(err, verbose) + '\n');
  process.exit(exitCodeForError(err));
}
