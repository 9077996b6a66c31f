/**
 * Running the measured commands: wall time of a child process, its output in
 * a file (cheap for the child, and there to read when it fails), the memory
 * of a process tree read from /proc (Linux), and the alternatives' installation.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { readStat } from '../../src/processors/shell/session.js';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** A file to read stdin from (default: nothing). */
  stdin?: string;
  /** The file stdout and stderr go to, its tail quoted when the command fails. */
  logFile: string;
}

export interface Started {
  readonly child: ChildProcess;
  /** The wall time from spawn to exit, ms; rejects when the command failed. */
  readonly done: Promise<number>;
}

/** Starts a command; `done` rejects (with its output's tail) unless it exits with one of `okCodes` (or `any` way). */
export function start(file: string, args: readonly string[], options: RunOptions, okCodes: readonly number[] | 'any' = [0]): Started {
  const stdin = options.stdin === undefined ? 'ignore' : openSync(options.stdin, 'r');
  const output = openSync(options.logFile, 'w');
  const began = performance.now();
  const child = spawn(file, args, { env: options.env ?? process.env, stdio: [stdin, output, output] });
  if (typeof stdin === 'number') closeSync(stdin);
  closeSync(output);
  const done = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const ms = performance.now() - began;
      if (okCodes === 'any' || (code !== null && okCodes.includes(code))) resolve(ms);
      else {
        const tail = readFileSync(options.logFile, 'utf8').slice(-2000);
        reject(new Error(`${path.basename(file)} ${args.join(' ')} ended with ${code ?? signal}:\n${tail}`));
      }
    });
  });
  return { child, done };
}

/** Runs a command to its end and returns its wall time, ms. */
export function timed(file: string, args: readonly string[], options: RunOptions): Promise<number> {
  return start(file, args, options).done;
}

/** A command's wall time and the CPU time (user + system) of it and every process it waited for, ms. */
export interface Usage {
  readonly ms: number;
  readonly cpuMs: number;
}

/**
 * As `timed`, also giving the CPU time of the command and of every process
 * it reaped (a worker's task shells, xargs' children): the command runs under
 * bash, whose `times` reports its children's totals once the command ends.
 */
export async function timedWithCpu(file: string, args: readonly string[], options: RunOptions): Promise<Usage> {
  const timesFile = `${options.logFile}.times`;
  // $0 is where `times` goes; "$@" the command, whose exit status bash keeps.
  const script = '"$@"; status=$?; times > "$0"; exit $status';
  const ms = await timed('bash', ['-c', script, timesFile, file, ...args], options);
  // Two lines, "0m0.001s 0m0.002s": the shell's own user and system time, then its children's.
  const children = readFileSync(timesFile, 'utf8').trim().split('\n')[1] ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, m, s]) => sum + Number(m) * 60 + Number(s), 0);
  return { ms, cpuMs: seconds * 1000 };
}

/** The preload that records a node process's main-thread CPU (main-thread-cpu.ts). */
const mainThreadPreload = new URL('./main-thread-cpu.js', import.meta.url).href;

/**
 * Runs a node command as `timedWithCpu` does, and also gives the CPU time its
 * main thread used (ms), written at its exit by a preload (Linux; NaN elsewhere).
 */
export async function timedWithMainThreadCpu(
  file: string,
  args: readonly string[],
  options: RunOptions,
): Promise<Usage & { readonly mainThreadCpuMs: number }> {
  const cpuFile = `${options.logFile}.main-cpu`;
  const nodeOptions = [options.env?.['NODE_OPTIONS'], `--import=${mainThreadPreload}`].filter(Boolean).join(' ');
  const env = { ...(options.env ?? process.env), NODE_OPTIONS: nodeOptions, JOBQ_BENCH_MAIN_CPU: cpuFile };
  rmSync(cpuFile, { force: true });
  const usage = await timedWithCpu(file, args, { ...options, env });
  const seconds = existsSync(cpuFile) ? Number(readFileSync(cpuFile, 'utf8')) : Number.NaN;
  return { ...usage, mainThreadCpuMs: seconds * 1000 };
}

/**
 * The memory of `root` and its descendants, from /proc: the RSS of `root`
 * alone, and the PSS of the whole tree, in bytes. PSS shares each page out
 * among the processes that map it, so that a tree's sum counts it once (a
 * child forked from a large process and not yet exec'd adds next to nothing).
 */
function treeMemory(root: number): { ownRss: number; treePss: number } {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const ppid = readStat(pid)?.ppid;
    if (ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  let treePss = 0;
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    treePss += kilobytes(`/proc/${pid}/smaps_rollup`, 'Pss');
    pending.push(...(children.get(pid) ?? []));
  }
  return { ownRss: kilobytes(`/proc/${root}/status`, 'VmRSS'), treePss };
}

/** A `Name:   123 kB` line of a /proc file, in bytes; 0 when the process is gone. */
function kilobytes(file: string, name: string): number {
  try {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Samples `treeMemory(pid)` every `intervalMs` until `stop()`, keeping the peaks. */
export function sampleTreeMemory(pid: number, intervalMs = 100): { stop(): Promise<{ ownRss: number; treePss: number }> } {
  const peak = { ownRss: 0, treePss: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const now = treeMemory(pid);
      peak.ownRss = Math.max(peak.ownRss, now.ownRss);
      peak.treePss = Math.max(peak.treePss, now.treePss);
      await delay(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

/** Whether `command` is on the PATH. */
function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure `command` is installed, from Debian's package `debianPackage`
 * when it is missing and we may use apt-get (as root). Returns whether it is there.
 */
export function ensureCommand(command: string, debianPackage: string): boolean {
  if (hasCommand(command)) return true;
  if (process.getuid?.() !== 0 || !hasCommand('apt-get')) {
    console.warn(`${command} is missing: install it (apt-get install ${debianPackage}) to compare against it`);
    return false;
  }
  console.log(`installing ${debianPackage} from Debian's packages…`);
  spawnSync('apt-get', ['update'], { stdio: 'ignore' });
  spawnSync('apt-get', ['install', '-y', debianPackage], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return hasCommand(command);
}
