/**
 * Finding and signalling every process of a task's session. A shell task runs
 * in a session of its own (its shell's pid is the session id), and every
 * process it starts stays in that session, even one that `set -o monitor` moved
 * into a process group of its own. On Linux the members are read from
 * /proc/<pid>/stat; elsewhere the session's first process group stands in for
 * it (processes in other groups are then out of reach).
 *
 * Scans are synchronous: reading a few hundred small /proc files takes a few
 * milliseconds, less than a round trip through the thread pool per file, and
 * they only happen while a task is being stopped or cleaned up.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export interface ProcessStat {
  readonly pid: number;
  /** One letter: R running, S sleeping, T stopped, Z zombie, … */
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: number;
  /** When the process started, in clock ticks since boot: with the pid, it names one process. */
  readonly startTime: number;
}

/** How often the SIGKILL follow-up re-scans for processes it has not yet seen die. */
const KILL_RESCAN_MS = 100;

/**
 * The fields of a /proc/<pid>/stat text from the third (the state) on. The
 * command name is in parentheses and may itself contain spaces and ')', so
 * fields are counted from the last ')'.
 */
export function statFields(text: string): string[] | undefined {
  const close = text.lastIndexOf(')');
  return close < 0 ? undefined : text.slice(close + 2).split(' ');
}

/** Parses the text of /proc/<pid>/stat. */
export function parseStat(pid: number, text: string): ProcessStat | undefined {
  const fields = statFields(text);
  if (fields === undefined) return undefined;
  // Fields 3 to 6 and 22 of proc(5), counted from the state.
  const [state, ppid, pgrp, session] = fields;
  const startTime = fields[19];
  if (state === undefined || session === undefined || startTime === undefined) return undefined;
  return { pid, state, ppid: Number(ppid), pgrp: Number(pgrp), session: Number(session), startTime: Number(startTime) };
}

/** A process's stat line, or undefined when it is gone (or /proc does not exist). */
export function readStat(pid: number): ProcessStat | undefined {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether this system lists processes with their session in /proc (Linux). */
const canListSessions = existsSync('/proc/self/stat');

/**
 * The live (not zombie) processes of each of these sessions, each session's
 * leader first so that it is signalled first: one pass over /proc for all.
 * Only meaningful where `canListSessions`; elsewhere empty.
 */
export function membersOfSessions(sessionIds: ReadonlySet<number>): Map<number, number[]> {
  const members = new Map<number, number[]>();
  for (const id of sessionIds) members.set(id, []);
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return members;
  }
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    const list = stat === undefined ? undefined : members.get(stat.session);
    if (list === undefined || stat?.state === 'Z') continue;
    if (pid === stat?.session) list.unshift(pid);
    else list.push(pid);
  }
  return members;
}

/** The live processes of one session, its leader first. */
export function sessionMembers(sessionId: number): number[] {
  return membersOfSessions(new Set([sessionId])).get(sessionId) ?? [];
}

/** Sends a signal, ignoring a process that is already gone (or not ours to signal). */
function send(target: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * One task's session. SIGTERM reaches each process at most once, however often
 * the session is re-scanned; SIGKILL goes to every live process on every call.
 */
export class ProcessSession {
  private readonly listable = canListSessions;
  private readonly terminated = new Set<number>();
  private groupTerminated = false;

  constructor(readonly id: number) {}

  /** Whether any process of the session is still running (zombies count as exited). */
  alive(): boolean {
    return this.listable ? sessionMembers(this.id).length > 0 : send(-this.id, 0);
  }

  /**
   * SIGTERM to every live process not yet sent one, each followed by SIGCONT
   * so that a stopped process can act on it (as systemd does). Returns whether
   * any process of the session is alive.
   */
  terminate(): boolean {
    if (!this.listable) {
      if (!this.groupTerminated) {
        this.groupTerminated = true;
        send(-this.id, 'SIGTERM');
        send(-this.id, 'SIGCONT');
      }
      return this.alive();
    }
    const members = sessionMembers(this.id);
    for (const pid of members) {
      if (this.terminated.has(pid)) continue;
      this.terminated.add(pid);
      send(pid, 'SIGTERM');
      send(pid, 'SIGCONT');
    }
    return members.length > 0;
  }

  /** SIGKILL to every live process. Returns whether any process of the session was alive. */
  kill(): boolean {
    if (!this.listable) return send(-this.id, 'SIGKILL');
    const members = sessionMembers(this.id);
    for (const pid of members) send(pid, 'SIGKILL');
    return members.length > 0;
  }
}

/**
 * Ends what a finished task left in its session: SIGTERM now, then after
 * `graceMs` SIGKILL, re-scanning until nothing is left. The follow-up runs on
 * unref'd timers: it happens while this process lives but never keeps it alive.
 */
export function endLeftovers(session: ProcessSession, graceMs: number): void {
  if (!session.terminate()) return;
  const killUntilGone = (): void => {
    if (session.kill()) setTimeout(killUntilGone, KILL_RESCAN_MS).unref();
  };
  setTimeout(killUntilGone, graceMs).unref();
}

/**
 * Cleans up after tasks that ended normally. Looking for leftovers means
 * reading every /proc/<pid>/stat, which at hundreds of tasks a second cost
 * more than the tasks; so the sessions that end within `delayMs` share one
 * scan, and only a session with leftovers gets the SIGTERM/SIGKILL sequence
 * of `endLeftovers`. `flush()` sweeps at once (when the worker is done).
 */
export class LeftoverSweeper {
  private pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly listable = canListSessions;

  constructor(
    private readonly graceMs: number,
    private readonly delayMs = 50,
  ) {}

  /** A task whose shell (the leader of `sessionId`) has exited. */
  add(sessionId: number): void {
    if (!this.listable) {
      endLeftovers(new ProcessSession(sessionId), this.graceMs);
      return;
    }
    this.pending.add(sessionId);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const sessions = this.pending;
    this.pending = new Set();
    if (sessions.size === 0) return;
    for (const [id, members] of membersOfSessions(sessions)) {
      if (members.length > 0) endLeftovers(new ProcessSession(id), this.graceMs);
    }
  }
}