/**
 * What `push` makes of its input: the kwargs text of each task, written byte
 * for byte as the reference's CLI writes it (ai4s-jobq `cli.py`, `push`), so
 * that a task gets the same id whichever of the two pushed it:
 *
 * - a command (`-c`, or a stdin line not starting with `{`) becomes
 *   `{"cmd": CMD, "bg_dirsync_to": DIR or null, "env": {-e pairs}}`; a stdin
 *   line keeps its line break (`"echo hi\n"`), as the reference reads it;
 * - a JSON line keeps its keys in their order and its numbers as Python
 *   writes them; `env` gets the -e pairs (added to its own, or appended), and
 *   `bg_dirsync_to` is appended when the line has none.
 *
 * A command that no shell could run as given is refused here, at push, rather
 * than failing on a worker later: one with a NUL byte or a lone surrogate
 * (neither survives the way to `bash -c`), or one longer than the kernel takes
 * as one argument.
 */
import { InvalidTaskError, UsageError } from '../errors.js';
import { readOrderedJson, JsonReadError, type JsonNode } from '../task/ordered-json.js';
import { pythonDumpsNode, pythonString } from '../task/python-json.js';
import type { PushItem } from '../push.js';

/** Linux's MAX_ARG_STRLEN: the longest single argument or environment entry, with its NUL (32 pages of 4 KiB). */
export const MAX_ARGUMENT_BYTES = 32 * 4096;
/** Linux's usual ARG_MAX (a quarter of the default 8 MiB stack): arguments and environment together. */
export const MAX_ARGUMENTS_TOTAL_BYTES = 2 * 1024 * 1024;

// Matched on UTF-16 code units (no `u` flag): a high surrogate not followed by a low one, or a low one alone.
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What every task of one push shares: the -e pairs and --bg-dirsync-to. */
export interface PushSettings {
  /** `-e KEY=VAL`, in the order given; a repeated key keeps its first place and its last value. */
  readonly env: ReadonlyMap<string, string>;
  /** `--bg-dirsync-to` (null when not given), stored in the task as the reference stores it. */
  readonly bgDirsyncTo: string | null;
}

/** Parses `-e KEY=VAL` pairs as the reference does (split at the first `=`); the name may not be empty. */
export function parseEnvPairs(pairs: readonly string[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid environment variable "${pair}": expected KEY=VALUE`);
    env.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return env;
}

function envJson(env: ReadonlyMap<string, string>): string {
  return '{' + [...env].map(([key, value]) => `${pythonString(key)}: ${pythonString(value)}`).join(', ') + '}';
}

/**
 * The kwargs text of a shell command (`-c`, or a stdin line with its line
 * break). Throws InvalidTaskError for a command no shell could run as given.
 */
export function commandKwargsJson(cmd: string, settings: PushSettings): string {
  const problem = shellProblem(cmd, settings.env);
  if (problem !== undefined) throw new InvalidTaskError(problem);
  const dir = settings.bgDirsyncTo === null ? 'null' : pythonString(settings.bgDirsyncTo);
  return `{"cmd": ${pythonString(cmd)}, "bg_dirsync_to": ${dir}, "env": ${envJson(settings.env)}}`;
}

/** Whether a stdin line is blank: no task (the reference would push it as a command that does nothing). */
export function isBlankLine(line: string): boolean {
  return line.trim() === '';
}

/**
 * The kwargs text of one stdin line that is not blank, with its line break
 * if it had one. Throws InvalidTaskError.
 */
export function lineKwargsJson(line: string, settings: PushSettings): string {
  if (!line.startsWith('{')) return commandKwargsJson(line, settings);
  let node: JsonNode;
  try {
    node = readOrderedJson(line);
  } catch (err) {
    if (err instanceof JsonReadError) throw new InvalidTaskError(`not valid JSON (${err.message})`, { cause: err });
    throw err;
  }
  if (node.kind !== 'object') throw new InvalidTaskError('a JSON task must be an object of kwargs');
  const { entries } = node;
  const env = entries.get('env') ?? { kind: 'object', entries: new Map<string, JsonNode>() };
  if (env.kind !== 'object') throw new InvalidTaskError('"env" must be an object of environment variables');
  for (const [key, value] of settings.env) env.entries.set(key, { kind: 'string', value });
  entries.set('env', env);
  if (!entries.has('bg_dirsync_to')) {
    entries.set('bg_dirsync_to', settings.bgDirsyncTo === null ? { kind: 'null' } : { kind: 'string', value: settings.bgDirsyncTo });
  }
  const problem = shellProblem(stringOf(entries.get('cmd')), stringEntries(env.entries), stringOf(entries.get('cwd')));
  if (problem !== undefined) throw new InvalidTaskError(problem);
  return pythonDumpsNode(node);
}

/** Push items for `-c` commands: `-c number N`. */
export function commandItems(commands: readonly string[], settings: PushSettings): PushItem[] {
  return commands.map((cmd, index) => ({ origin: `-c number ${index + 1}`, kwargsJson: () => commandKwargsJson(cmd, settings) }));
}

/** Push items for input lines (numbered from 1, with their line breaks): `line N`; blank lines are skipped. */
export async function* lineItems(
  lines: AsyncIterable<{ readonly text: string; readonly line: number }>,
  settings: PushSettings,
): AsyncGenerator<PushItem> {
  for await (const { text, line } of lines) {
    if (!isBlankLine(text)) yield { origin: `line ${line}`, line, kwargsJson: () => lineKwargsJson(text, settings) };
  }
}

function stringOf(node: JsonNode | undefined): string | undefined {
  return node?.kind === 'string' ? node.value : undefined;
}

function stringEntries(entries: ReadonlyMap<string, JsonNode>): Map<string, string> {
  const strings = new Map<string, string>();
  for (const [key, value] of entries) if (value.kind === 'string') strings.set(key, value.value);
  return strings;
}

/** Why a shell task with this command, environment and folder could not start, if it could not. */
function shellProblem(cmd: string | undefined, env: ReadonlyMap<string, string>, cwd?: string): string | undefined {
  let total = 0;
  const check = (what: string, text: string, asArgument: boolean): string | undefined => {
    if (text.includes('\0')) return `${what} has a NUL byte, which no command line can hold`;
    if (loneSurrogate.test(text)) return `${what} has a lone surrogate (\\ud800-\\udfff), which is not text a shell can be given`;
    if (!asArgument) return undefined;
    const bytes = Buffer.byteLength(text, 'utf8') + 1;
    total += bytes;
    if (bytes > MAX_ARGUMENT_BYTES) {
      return `${what} is ${bytes - 1} bytes, longer than the ${MAX_ARGUMENT_BYTES - 1} bytes the kernel takes as one argument`;
    }
    return undefined;
  };
  const problems = [
    cmd === undefined ? undefined : check('the command', cmd, true),
    cwd === undefined ? undefined : check('"cwd"', cwd, false),
    ...[...env].map(([key, value]) => check(`the environment variable ${key}`, `${key}=${value}`, true)),
  ];
  const first = problems.find((problem) => problem !== undefined);
  if (first !== undefined) return first;
  if (total > MAX_ARGUMENTS_TOTAL_BYTES) {
    return `the command and its environment are ${total} bytes, more than the ${MAX_ARGUMENTS_TOTAL_BYTES} bytes the kernel takes for a command line`;
  }
  return undefined;
}
