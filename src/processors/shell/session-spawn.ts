/**
 * Starting a task's shell in a new session, stdin /dev/null, its stdout and
 * stderr through pipes.
 *
 * child_process.spawn forks the whole node process (libuv uses fork() on
 * Linux): 0.7 ms or more of the event loop per task, growing with node's
 * memory, which capped a worker below GNU parallel's rate for short commands.
 * jobq's addon (native/spawn.c, built by `npm install`) uses posix_spawn, which
 * starts the child without copying node, and learns of its exit through a
 * pidfd on the event loop: about a third of the cost. Where the addon is not
 * built or not supported (not Linux 5.3+), child_process takes over.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { Readable } from 'node:stream';
import type { ShellExit, ShellLaunch } from './launch.js';

/** A child the addon started: its pid, the fd that tells of its exit, its pipes' read ends. */
interface StartedChild {
  pid: number;
  pidfd: number;
  stdout: number;
  stderr: number;
  announced: boolean;
}

/** The addon's functions (native/spawn.c). */
interface SpawnAddon {
  spawn(
    file: string,
    argv: string[],
    envp: string[],
    cwd: string | null,
    guardFd: number,
    callback: (error: Error | null, started: StartedChild | null) => void,
  ): void;
  onExit(pid: number, pidfd: number, callback: (code: number, signal: number) => void): void;
  dup(fd: number): number;
  close(fd: number): void;
  supported(): boolean;
}

/** A shell started in its own session. */
export interface SessionProcess {
  /** The shell's pid, which is its session's id; undefined when it could not be started. */
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the shell has exited, with an Error when it could not be started. */
  readonly exited: Promise<ShellExit | Error>;
  /** Whether the session guard has been told of the session, as the shell started. */
  readonly announced: boolean;
}

/** The addon, when it is built and this system has what it needs (pidfd_open, Linux 5.3+): a fact of the install, found once. */
const addon = loadAddon();

function loadAddon(): SpawnAddon | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const loaded = createRequire(import.meta.url)('../../../../build/Release/jobq_spawn.node') as SpawnAddon;
    return loaded.supported() ? loaded : undefined;
  } catch {
    return undefined;
  }
}

/** Whether shells start through jobq's addon (posix_spawn) rather than child_process. */
export function nativeSpawnLoaded(): boolean {
  return addon !== undefined;
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/**
 * How a child ended, from its exit code and the number of the signal that
 * killed it (0 or undefined: none, or one this system does not name).
 */
export function exitOf(code: number, signal: number | undefined): ShellExit {
  const name = signal === undefined ? undefined : signalNames.get(signal);
  return name === undefined ? { code, signal: null } : { code: null, signal: name };
}

/**
 * A channel the addon announces each new session on, `+PID` written to a copy
 * of `fd` (the session guard's input) from the thread that spawns; -1 without
 * the addon. Close it with closeAnnouncements() once no spawn is under way.
 */
export function announcementsTo(fd: number | undefined): number {
  if (addon === undefined || fd === undefined) return -1;
  try {
    return addon.dup(fd);
  } catch {
    return -1;
  }
}

export function closeAnnouncements(channel: number): void {
  if (addon !== undefined && channel >= 0) addon.close(channel);
}

/**
 * Starts the shell; settles once it runs (or could not be started: then
 * `exited` holds the error). `announcements`: from announcementsTo(), or -1.
 * `native` false starts it through child_process even where the addon is built.
 */
export function spawnInSession(launch: ShellLaunch, announcements: number, native = true): Promise<SessionProcess> {
  return addon === undefined || !native
    ? Promise.resolve(spawnWithChildProcess(launch))
    : spawnWithAddon(addon, launch, announcements);
}

function cannotStart(launch: ShellLaunch, err: Error): Error {
  return new Error(`cannot start ${launch.file}: ${err.message}`, { cause: err });
}

function spawnWithAddon(native: SpawnAddon, launch: ShellLaunch, announcements: number): Promise<SessionProcess> {
  const envp: string[] = [];
  for (const name in launch.env) envp.push(`${name}=${launch.env[name]}`);
  return new Promise((resolve) => {
    native.spawn(launch.file, [launch.file, ...launch.args], envp, launch.cwd ?? null, announcements, (error, started) => {
      if (started === null) {
        const empty = (): Readable => Readable.from([]);
        const exited = Promise.resolve(cannotStart(launch, error ?? new Error('unknown error')));
        resolve({ pid: undefined, stdout: empty(), stderr: empty(), exited, announced: false });
        return;
      }
      const exited = new Promise<ShellExit | Error>((resolveExit) => {
        try {
          native.onExit(started.pid, started.pidfd, (code, signal) => resolveExit(exitOf(code, signal)));
        } catch (err) {
          // Nothing would learn of its end (the addon has closed the pidfd): it must not run on.
          process.kill(started.pid, 'SIGKILL');
          resolveExit(cannotStart(launch, err as Error));
        }
      });
      const pipe = (fd: number): Readable => new Socket({ fd, readable: true, writable: false });
      const { pid, announced } = started;
      resolve({ pid, stdout: pipe(started.stdout), stderr: pipe(started.stderr), exited, announced });
    });
  });
}

function spawnWithChildProcess(launch: ShellLaunch): SessionProcess {
  const child = spawn(launch.file, launch.args, {
    ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }),
    env: launch.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<ShellExit | Error>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // Also the listener that keeps a later 'error' from being thrown.
    child.on('error', (err) => resolve(cannotStart(launch, err)));
  });
  return { pid: child.pid, stdout: child.stdout, stderr: child.stderr, exited, announced: false };
}
