/**
 * oclif has no positional argument before a command id, but jobq takes the
 * queue spec first (`jobq local/q worker`). The entry point rewrites argv
 * before oclif parses it: a leading spec becomes `--queue SPEC`, and the
 * repeatable `-v`/`-q` shorthands become one `--log-level`.
 */
import { levelFromVerbosity } from '../log/logger.js';

const verbosityToken = /^-(v+|q+)$/;
/** Flags whose next token is a value, so that `-c -v` keeps `-v` as the command. */
const takesValue = new Set(['-c', '--cmd', '-e', '--env', '--queue', '--conn-str', '--db-url', '--proc']);

function looksLikeSpec(token: string): boolean {
  return !token.startsWith('-') && token.includes('/');
}

export function rewriteArgv(argv: readonly string[]): string[] {
  const rest = [...argv];
  const spec = rest[0] !== undefined && looksLikeSpec(rest[0]) ? rest.shift() : undefined;

  let verbose = 0;
  let quiet = 0;
  const kept: string[] = [];
  let endOfFlags = false;
  for (const [index, token] of rest.entries()) {
    const previous = index > 0 ? rest[index - 1] : undefined;
    if (token === '--') endOfFlags = true;
    const match = verbosityToken.exec(token);
    if (!endOfFlags && !(previous !== undefined && takesValue.has(previous))) {
      if (match?.[1]) {
        if (match[1].startsWith('v')) verbose += match[1].length;
        else quiet += match[1].length;
        continue;
      }
      if (token === '--verbose') {
        verbose += 1;
        continue;
      }
      if (token === '--quiet') {
        quiet += 1;
        continue;
      }
    }
    kept.push(token);
  }

  // Flags go right after the command id (the leading words that are not flags).
  let commandEnd = 0;
  while (commandEnd < kept.length && !kept[commandEnd]?.startsWith('-')) commandEnd += 1;
  const inserted: string[] = [];
  if (spec !== undefined) inserted.push('--queue', spec);
  if (verbose !== 0 || quiet !== 0) inserted.push('--log-level', levelFromVerbosity(verbose, quiet));
  return [...kept.slice(0, commandEnd), ...inserted, ...kept.slice(commandEnd)];
}
