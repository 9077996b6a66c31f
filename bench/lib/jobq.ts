/**
 * jobq as the bench scripts run it: the compiled CLI in a subprocess, each run
 * with its own JOBQ_HOME, and Azurite from the tests' harness.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cliPath, repoRoot } from '../../test/helpers/paths.js';

export { startAzurite, type Azurite } from '../../test/helpers/azurite.js';

/** The no-op function task `jobq bench` uses. */
export const noopTask = path.join(repoRoot, 'dist', 'src', 'measure', 'noop-task.js');

/** `node dist/bench/baselines/NAME ARGS`, as an argv: an alternative jobq is compared with. */
export function baseline(name: string, ...args: string[]): [string, string[]] {
  return [process.execPath, [path.join(repoRoot, 'dist', 'bench', 'baselines', name), ...args]];
}

/** `node bin/run.js ARGS`, as an argv. */
export function jobq(...args: string[]): [string, string[]] {
  return [process.execPath, [cliPath, ...args]];
}

/** A shell line for a figure's `command`. */
export function commandLine(file: string, args: readonly string[]): string {
  const shown = file === process.execPath ? ['node', ...args.map((arg) => (arg === cliPath ? 'bin/run.js' : arg))] : [file, ...args];
  return shown.map((arg) => (/^[\w./,=:@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** A scratch folder with a JOBQ_HOME and the input files of a script; `cleanup` removes it. */
export class Scratch {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'jobq-benchscript-'));
  private homes = 0;

  /** The environment for a jobq run on a new, empty JOBQ_HOME. */
  freshHome(): NodeJS.ProcessEnv {
    this.homes += 1;
    const home = path.join(this.dir, `home-${this.homes}`);
    return { ...process.env, JOBQ_HOME: home, JOBQ_PID_DIR: path.join(home, 'pids'), JOBQ_LOG_LEVEL: undefined, JOBQ_QUEUE: undefined };
  }

  /** A path in the scratch folder. */
  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Writes `lines` to a file in the scratch folder and returns its path. */
  file(name: string, lines: Iterable<string>): string {
    const file = this.path(name);
    writeFileSync(file, [...lines].join('\n') + '\n');
    return file;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The script's integer options (`--rounds 5`), each with its default. */
export function integerOptions<K extends string>(defaults: Record<K, number>): Record<K, number> {
  const options = Object.fromEntries(Object.keys(defaults).map((key) => [key, { type: 'string' as const }]));
  const { values } = parseArgs({ options, strict: true });
  const resolved = { ...defaults };
  for (const key of Object.keys(defaults) as K[]) {
    const given = values[key];
    if (typeof given !== 'string') continue;
    const value = Number(given);
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${key} must be an integer of at least 1, got "${given}"`);
    resolved[key] = value;
  }
  return resolved;
}

/** n lines made by `line` (the input of `jobq push` and of the alternatives). */
export function lines(n: number, line: (index: number) => string): string[] {
  return Array.from({ length: n }, (_, index) => line(index));
}
