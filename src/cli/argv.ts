/**
 * jobq's command line is `jobq [SPEC] COMMAND [FLAGS]`, with the global flags
 * (`-v`, `-q`, `--conn-str`, `--log-format`, `--log-level`, `--queue`)
 * anywhere: before the spec, between spec and command, or after the command,
 * as the reference's click group allows and more. oclif knows nothing of a
 * positional argument before the command id, nor of flags before it, so the
 * entry point rewrites argv before oclif parses it into
 *
 *   COMMAND-WORDS [--queue SPEC] [--log-level L] [GLOBAL FLAGS…] REST
 *
 * A spec is a word with a `/` that comes before the command's first word;
 * `-v`/`-q` (repeatable, `-vv`) become one `--log-level`, counted from the
 * level given with --log-level or JOBQ_LOG_LEVEL (default info). Which flags take a
 * value (so that `-c -v` keeps `-v` as the command) comes from oclif's
 * manifest of the commands.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { isLogLevel, levelFromVerbosity } from '../log/logger.js';

const verbosityToken = /^-(v+|q+)$/;
/** Global flags that take a value. */
const globalValueFlags = new Set(['--queue', '--conn-str', '--conn-str-file', '--db-url', '--log-format', '--log-level']);
const helpTokens = new Set(['--help', '-h']);

function looksLikeSpec(token: string): boolean {
  return !token.startsWith('-') && token.includes('/');
}

/** The flags of jobq's commands that take a value (`-c`, `--env`, `-n`, …), read from oclif's manifest. */
export function valueFlagsFromManifest(manifestFile: string | URL): Set<string> {
  const flags = new Set(globalValueFlags);
  let manifest: { commands?: Record<string, { flags?: Record<string, { type?: string; char?: string; aliases?: string[] }> }> };
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as typeof manifest;
  } catch {
    return flags;
  }
  for (const command of Object.values(manifest.commands ?? {})) {
    for (const [name, flag] of Object.entries(command.flags ?? {})) {
      if (flag.type !== 'option') continue;
      for (const long of [name, ...(flag.aliases ?? [])]) flags.add(`--${long}`);
      if (flag.char) flags.add(`-${flag.char}`);
    }
  }
  return flags;
}

/**
 * argv for oclif (see the top of this file). Without a command (a spec and
 * global flags only, or nothing at all) it asks for the help, which lists the
 * commands. Throws a UsageError for two different specs or a global flag
 * without its value.
 */
export function rewriteArgv(
  argv: readonly string[],
  valueFlags: ReadonlySet<string> = globalValueFlags,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  let spec: string | undefined;
  let level: string | undefined;
  let verbose = 0;
  let quiet = 0;
  const globals: string[] = [];
  const kept: string[] = [];
  let commandStarted = false;
  let help = false;
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index] as string;
    if (token === '--') {
      kept.push(...argv.slice(index));
      break;
    }
    const verbosity = verbosityToken.exec(token)?.[1];
    if (verbosity !== undefined || token === '--verbose' || token === '--quiet') {
      if ((verbosity ?? token).includes('v')) verbose += verbosity?.length ?? 1;
      else quiet += verbosity?.length ?? 1;
      continue;
    }
    const [name = token, inlineValue] = token.startsWith('--') && token.includes('=') ? splitOnce(token) : [token];
    if (globalValueFlags.has(name)) {
      const value = inlineValue ?? argv[index + 1];
      if (inlineValue === undefined) index += 1;
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      if (name === '--queue') spec = setSpec(spec, value);
      else if (name === '--log-level') level = value;
      else globals.push(name, value);
      continue;
    }
    if (token.startsWith('-')) {
      if (helpTokens.has(token)) help = true;
      kept.push(token);
      if (inlineValue === undefined && valueFlags.has(token) && index + 1 < argv.length) kept.push(argv[(index += 1)] as string);
      continue;
    }
    if (!commandStarted && looksLikeSpec(token)) {
      spec = setSpec(spec, token);
      continue;
    }
    commandStarted = true;
    kept.push(token);
  }

  let commandEnd = 0;
  while (commandEnd < kept.length && !(kept[commandEnd] as string).startsWith('-')) commandEnd += 1;
  if (kept.length === 0) return ['--help'];
  // Help and the version ignore the global flags (oclif would take them for the subject of the help).
  if (help || (commandEnd === 0 && kept.includes('--version'))) return kept;
  const inserted: string[] = [];
  if (spec !== undefined) inserted.push('--queue', spec);
  const base = level ?? env['JOBQ_LOG_LEVEL'];
  if (verbose !== 0 || quiet !== 0) {
    // An unknown level is left to oclif, which names the choices.
    inserted.push('--log-level', base === undefined || isLogLevel(base) ? levelFromVerbosity(verbose, quiet, base) : base);
  } else if (level !== undefined) {
    inserted.push('--log-level', level);
  }
  inserted.push(...globals);
  return [...kept.slice(0, commandEnd), ...inserted, ...kept.slice(commandEnd)];
}

function splitOnce(token: string): [string, string] {
  const eq = token.indexOf('=');
  return [token.slice(0, eq), token.slice(eq + 1)];
}

function setSpec(current: string | undefined, given: string): string {
  if (current !== undefined && current !== given) {
    throw new UsageError(`two queues given: ${current} and ${given}`);
  }
  return given;
}
