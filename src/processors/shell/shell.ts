/**
 * The shell processor (SPEC §7): a task's `cmd` runs as `bash -c CMD` in a
 * session of its own, so that every process it starts can be found and
 * signalled (session.ts), whether or not bash exec'd it and whatever process
 * group it moved to. Its output is logged line by line as it arrives.
 *
 * One run goes through these states:
 *
 * - running: the shell runs. (It is started off the event loop; a stop or
 *   kill that comes before it runs reaches it as soon as it does.) Nothing is
 *   polled; the shell's exit event ends the state. stop() moves to stopping, kill() to killing; but a stop()
 *   that finds no process of the session alive (the shell has exited, we
 *   have not yet seen it) changes nothing, and the outcome says so.
 * - stopping: every process of the session got SIGTERM. The session is
 *   re-scanned every WATCH_INTERVAL_MS; a process that appeared since (bash
 *   forking in a trap) gets its SIGTERM then; each process gets one. The state
 *   lasts until no process of the session is left, however long a program
 *   takes to write its checkpoint. kill() moves to killing.
 * - killing: as stopping, with SIGKILL to every process at each scan.
 * - finishing: the shell has exited (after a stop or kill: the whole session
 *   has). The output is drained: the pipes close when the last writer exits,
 *   but a process outside the session may hold them, so after DRAIN_GRACE_MS
 *   what was read is what the task wrote. On a normal end, what the task left
 *   behind in its session gets SIGTERM (found by a /proc scan shared with the
 *   tasks that ended at about the same time), and SIGKILL after `leftoverKillMs` in
 *   the background; `done` settles without waiting for that. stop() and kill()
 *   do nothing any more.
 *
 * While a run is not over, its session is listed with the processor's session
 * guard (session-guard.ts), which stops it should the worker die.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextIteration } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { SECRET_ENV_NAMES, withoutVariables } from '../../backends/secrets.js';
import { errorMessage } from '../../errors.js';
import { readEnvironment } from '../../options/environment.js';
import { durationOption } from '../../options/validate.js';
import { LineSplitter } from './line-splitter.js';
import type { OutputStream, Processor, RunningTask, TaskContext, TaskOutcome } from '../processor.js';
import type { ShellChild, ShellExit, ShellLaunch } from './launch.js';
import { loadNodePty, startPtyShell } from './pty.js';
import { LeftoverSweeper, ProcessSession } from './session.js';
import { SessionGuard, type AnnouncementChannel } from './session-guard.js';
import { spawnInSession } from './session-spawn.js';

export interface ShellProcessorOptions {
  /** Run commands under a pseudo-terminal (node-pty), so programs line-buffer their output. Default false. */
  emulateTty?: boolean;
  /** Run `bash --login -c CMD`, reading the login profile. Default JOBQ_USE_LOGIN_SHELL=1, else false. */
  loginShell?: boolean;
  /** Start shells through jobq's spawn addon where it is built (default: unless JOBQ_NO_NATIVE_SPAWN=1). */
  nativeSpawn?: boolean;
  /**
   * If the worker dies with tasks running, its session guard SIGKILLs them this
   * long after their SIGTERM, ms (default JOBQ_KILL_TIMEOUT, else 600 s; the
   * worker passes its own kill timeout).
   */
  killTimeoutMs?: number;
  /** How long what a finished task left running in its session has between SIGTERM and SIGKILL, ms (default 5 s). */
  leftoverKillMs?: number;
  /** The environment every task starts from, before its own `env`; read when the processor is made. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Variables of `env` that tasks do not get (a task whose own `env` sets one
   * gets its value). Default: jobq's own secrets (backends/secrets.ts), such as
   * the storage connection string and the database password.
   */
  withheldEnv?: readonly string[];
  /** Where the processor reports trouble outside any task, one line each (a session guard that died and was replaced); default: process warnings. */
  warn?: (message: string) => void;
}

type ResolvedShellOptions = { readonly [K in keyof ShellProcessorOptions]-?: Exclude<ShellProcessorOptions[K], undefined> } & {
  /** `env` without `withheldEnv`, as a plain object, copied once: reading process.env is slow, and tasks start by the thousand. */
  readonly taskEnv: Readonly<Record<string, string>>;
  /** bash from the PATH of `env`, else /bin/sh. */
  readonly shell: string;
};

export const shellDefaults = { killTimeoutMs: 600_000, leftoverKillMs: 5_000 } as const;

/** After the shell's exit, how long a process outside the session may hold the pipes open. */
const DRAIN_GRACE_MS = 100;
/** How often a stopped or killed session is re-scanned. */
const WATCH_INTERVAL_MS = 100;

function findShell(env: NodeJS.ProcessEnv): string {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, 'bash');
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return '/bin/sh';
}

function resolveOptions(options: ShellProcessorOptions): ResolvedShellOptions {
  const env = options.env ?? process.env;
  const environment = readEnvironment(env);
  const withheldEnv = options.withheldEnv ?? SECRET_ENV_NAMES;
  const taskEnv = withoutVariables(env, withheldEnv);
  taskEnv['PYTHONUNBUFFERED'] = '1';
  return {
    emulateTty: options.emulateTty ?? false,
    loginShell: options.loginShell ?? environment.loginShell ?? false,
    nativeSpawn: options.nativeSpawn ?? environment.nativeSpawn ?? true,
    killTimeoutMs: durationOption(options.killTimeoutMs ?? environment.killTimeoutMs ?? shellDefaults.killTimeoutMs, 'killTimeoutMs'),
    leftoverKillMs: durationOption(options.leftoverKillMs ?? shellDefaults.leftoverKillMs, 'leftoverKillMs'),
    env,
    withheldEnv,
    warn: options.warn ?? processWarning,
    taskEnv,
    shell: findShell(env),
  };
}

function envValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** The launch for a task, or why the task cannot run. */
function prepareLaunch(
  context: TaskContext,
  options: ResolvedShellOptions,
): { launch: ShellLaunch } | { error: string } {
  const { cmd, env: taskEnv, cwd } = context.task.kwargs;
  if (typeof cmd !== 'string') return { error: 'shell task has no cmd' };
  if (taskEnv !== undefined && taskEnv !== null && (typeof taskEnv !== 'object' || Array.isArray(taskEnv))) {
    return { error: 'shell task env must be an object' };
  }
  if (cwd !== undefined && cwd !== null) {
    if (typeof cwd !== 'string') return { error: 'shell task cwd must be a string' };
    const stat = statSync(cwd, { throwIfNoEntry: false });
    if (stat === undefined) return { error: `cwd does not exist: ${cwd}` };
    if (!stat.isDirectory()) return { error: `cwd is not a directory: ${cwd}` };
  }
  const env: Record<string, string> = { ...options.taskEnv };
  for (const [name, value] of Object.entries(taskEnv ?? {})) env[name] = envValue(value);
  env['JOBQ_TASK_ID'] = context.task.id;
  env['JOBQ_QUEUE_NAME'] = context.queueName;
  const isBash = path.basename(options.shell) === 'bash';
  const args = isBash && options.loginShell ? ['--login', '-c', cmd] : ['-c', cmd];
  return { launch: { file: options.shell, args, cwd: typeof cwd === 'string' ? cwd : undefined, env } };
}

function readLines(stream: Readable, splitter: LineSplitter): Promise<void> {
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => splitter.push(text));
  stream.on('end', () => splitter.end());
  // A read error ends the stream like its end does (it is destroyed and
  // closes); without a listener it would be thrown.
  stream.on('error', () => splitter.end());
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Starts the shell in a new session with stdin /dev/null and its output through pipes. */
async function startPipedShell(
  launch: ShellLaunch,
  log: (line: string, stream: OutputStream) => void,
  announcements: number,
  native: boolean,
): Promise<ShellChild> {
  const child = await spawnInSession(launch, announcements, native);
  const stdout = new LineSplitter((line) => log(line, 'stdout'));
  const stderr = new LineSplitter((line) => log(line, 'stderr'));
  const drained = Promise.all([readLines(child.stdout, stdout), readLines(child.stderr, stderr)]).then(() => undefined);
  return {
    pid: child.pid,
    exited: child.exited,
    announced: child.announced,
    drained,
    release() {
      stdout.end();
      stderr.end();
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}

function outcomeOf(exit: ShellExit | Error): TaskOutcome {
  if (exit instanceof Error) return { ok: false, error: exit.message };
  if (exit.code === 0) return { ok: true };
  if (exit.signal !== null) return { ok: false, error: `killed by ${exit.signal}`, exitCode: null, signal: exit.signal };
  return { ok: false, error: `exit code ${exit.code}`, exitCode: exit.code, signal: null };
}

/** A task that ended before it started. */
function settledTask(outcome: TaskOutcome): RunningTask {
  return { done: Promise.resolve(outcome), stop() {}, kill() {} };
}

/** One run of a shell task; see the state machine at the top of this file. */
class ShellRun implements RunningTask {
  readonly done: Promise<TaskOutcome>;
  private state: 'running' | 'stopping' | 'killing' | 'finishing' = 'running';
  /** Set once the shell runs: it is started off the event loop, so stop() and kill() may come first. */
  private child: ShellChild | undefined;
  private session: ProcessSession | undefined;
  /** The watch of a stopped or killed session; settles when none of its processes is left. */
  private watching: Promise<void> | undefined;
  /** Ends the watch's current pause, so that kill() acts at once. */
  private wake: (() => void) | undefined;
  /** A stop came when the task had already ended (see stop()). */
  private endedBeforeStop = false;
  /** A stop came while the shell was starting. */
  private stopWhenStarted = false;

  constructor(
    starting: Promise<ShellChild>,
    private readonly sweeper: LeftoverSweeper,
  ) {
    this.done = this.run(starting);
  }

  stop(): void {
    if (this.state !== 'running') return;
    if (this.child === undefined) {
      this.stopWhenStarted = true;
      return;
    }
    // The first SIGTERMs go out here. When no process of the session was alive,
    // the task has ended on its own (we have not yet seen its exit): the stop
    // reached nothing.
    if (this.session !== undefined && !this.session.terminate()) {
      this.endedBeforeStop = true;
      return;
    }
    this.state = 'stopping';
    this.watching = this.watch(true);
  }

  kill(): void {
    if (this.state === 'killing' || this.state === 'finishing') return;
    this.state = 'killing';
    if (this.child === undefined) return;
    this.watching ??= this.watch();
    this.wake?.();
  }

  private async run(starting: Promise<ShellChild>): Promise<TaskOutcome> {
    const child = await starting;
    this.child = child;
    this.session = child.pid === undefined ? undefined : new ProcessSession(child.pid);
    // A stop or kill that came while the shell was starting reaches it now.
    if (this.state === 'killing') this.watching = this.watch();
    else if (this.stopWhenStarted) this.stop();
    const exit = await child.exited;
    await this.drain(child);
    if (this.state === 'running') {
      this.state = 'finishing';
      child.release();
      if (this.session !== undefined) this.sweeper.add(this.session.id);
      return this.endedBeforeStop ? { ...outcomeOf(exit), endedBeforeStop: true } : outcomeOf(exit);
    }
    await this.watching;
    await this.drain(child);
    this.state = 'finishing';
    child.release();
    return outcomeOf(exit);
  }

  /**
   * Signals the session at once and at every interval until none of its
   * processes is left; `signalled`: stop() has just sent the first SIGTERMs, so
   * the first scan waits an interval too (a trap's new processes get theirs then).
   */
  private async watch(signalled = false): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    if (signalled) await this.pause(WATCH_INTERVAL_MS);
    while (this.state === 'killing' ? session.kill() : session.terminate()) {
      await this.pause(WATCH_INTERVAL_MS);
    }
  }

  /** A pause that wake() ends early. Its timer is ref'd: a pending `done` is work this process must not exit on. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const end = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.wake = end;
    });
  }

  /** Waits until the output is read to its end, or DRAIN_GRACE_MS and one more pass over the pipes. */
  private async drain(child: ShellChild): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), DRAIN_GRACE_MS);
    });
    const first = await Promise.race([child.drained, grace]);
    clearTimeout(timer);
    // One more event-loop iteration reads what the pipes already hold, even
    // when the grace timer fired before a late read on a busy machine.
    if (first === 'grace') await nextIteration();
  }
}

function startShellTask(
  context: TaskContext,
  options: ResolvedShellOptions,
  guard: SessionGuard,
  sweeper: LeftoverSweeper,
): RunningTask {
  const prepared = prepareLaunch(context, options);
  if ('error' in prepared) return settledTask({ ok: false, error: prepared.error });
  let starting: Promise<ShellChild>;
  /** Where the addon announces the session, if it does. */
  let channel: AnnouncementChannel | undefined;
  try {
    if (options.emulateTty) {
      starting = Promise.resolve(startPtyShell(prepared.launch, (line) => context.log(line, 'stdout')));
    } else {
      channel = guard.announcements();
      const log = (line: string, stream: OutputStream): void => context.log(line, stream);
      starting = startPipedShell(prepared.launch, log, channel.fd, options.nativeSpawn).catch(notStarted);
    }
  } catch (err) {
    return settledTask({ ok: false, error: `cannot start the shell: ${errorMessage(err)}` });
  }
  const run = new ShellRun(starting, sweeper);
  void starting.then(({ pid: sessionId, announced }) => {
    if (sessionId === undefined) return;
    guard.watch(sessionId, announced ? channel : undefined);
    void run.done.then(() => guard.unwatch(sessionId));
  });
  return run;
}

function processWarning(message: string): void {
  process.emitWarning(message, { code: 'JOBQ_SHELL' });
}

/** A shell that could not be started. */
function notStarted(err: unknown): ShellChild {
  const error = new Error(`cannot start the shell: ${errorMessage(err)}`);
  return { pid: undefined, exited: Promise.resolve(error), drained: Promise.resolve(), release() {} };
}

/** The `shell` task type: runs `kwargs.cmd` with bash (SPEC §7). */
export function createShellProcessor(options: ShellProcessorOptions = {}): Processor {
  const resolved = resolveOptions(options);
  // Refuse at once, not task by task, when --emulate-tty cannot work here.
  if (resolved.emulateTty) loadNodePty();
  const guard = new SessionGuard(resolved);
  const sweeper = new LeftoverSweeper(resolved.leftoverKillMs);
  return {
    name: 'shell',
    describe: (task) => (typeof task.kwargs['cmd'] === 'string' ? task.kwargs['cmd'] : task.kwargsJson),
    start: (context) => startShellTask(context, resolved, guard, sweeper),
    close: () => {
      sweeper.flush();
      guard.close();
      return Promise.resolve();
    },
  };
}
