/**
 * PID files (SPEC §6.1): a running worker keeps `<pid>.pid` in a folder per
 * queue under JOBQ_PID_DIR (default: the user cache dir), so that
 * `jobq signal` can reach every worker on this machine.
 *
 * A PID alone does not name a process for long: PIDs wrap (at 32,768 on many
 * machines), so a file left by a worker that was SIGKILLed soon names some
 * other process. Each file therefore holds one JSON line with the worker's
 * pid, its start time (clock ticks since boot, from /proc/PID/stat) and the
 * boot id; a file names a worker only while a process with that pid has that
 * start time in that boot. Anything else is stale and is removed, never
 * signalled. (Without /proc, as on macOS, start times are unknown and a live
 * pid is trusted.)
 *
 * Whoever can write to the folders can plant a file naming any process, or a
 * symbolic link that makes the worker overwrite a file of theirs: the root
 * and the queue's folder are owner-only (files/owner-only.ts), a queue folder
 * or PID file that is a link is refused or removed, a PID file is created
 * with O_EXCL | O_NOFOLLOW, and only regular files of this user are read.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { currentUid, ownerOnlyFolder } from '../files/owner-only.js';
import { readStat } from '../processors/shell/session.js';
import { isProcessAlive } from '../os/process-alive.js';

/** What a PID file holds: the process, named so that a reused pid does not match. */
interface PidRecord {
  readonly pid: number;
  /** Clock ticks since boot (/proc/PID/stat field 22); null without /proc. */
  readonly start_time: number | null;
  /** /proc/sys/kernel/random/boot_id; null without it. */
  readonly boot_id: string | null;
}

export function pidRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['JOBQ_PID_DIR'];
  if (explicit) return path.resolve(explicit);
  const cache = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(cache, 'jobq', 'workers');
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** The record of a live process, or undefined when it is gone (or, without /proc, undefined start time). */
function recordOf(pid: number): PidRecord | undefined {
  const stat = readStat(pid);
  if (stat !== undefined) return { pid, start_time: stat.startTime, boot_id: bootId() };
  return isProcessAlive(pid) ? { pid, start_time: null, boot_id: bootId() } : undefined;
}


/** The root folder, created or checked owner-only; the queue's folder too when `queue` is given. */
function ownerOnlyFolders(root: string, queue?: string): string {
  ownerOnlyFolder(root, { what: `the PID folder ${root}`, optIn: 'set JOBQ_PID_DIR to a folder of your own' });
  if (queue === undefined) return root;
  const dir = path.join(root, queue);
  ownerOnlyFolder(dir, { what: `the PID folder ${dir}`, refuseLink: true });
  return dir;
}

/**
 * Writes this process's PID file for `queue` (removing stale files of the
 * queue on the way); returns the function that removes it. Throws
 * UnsafePathError when a folder is not this user's or others can write to it.
 */
export function writePidFile(queue: string, env: NodeJS.ProcessEnv = process.env): () => void {
  const dir = ownerOnlyFolders(pidRoot(env), queue);
  // A file at our own pid left by an earlier process goes too.
  livePids(dir);
  const file = path.join(dir, `${process.pid}.pid`);
  const record = recordOf(process.pid) ?? { pid: process.pid, start_time: null, boot_id: null };
  // O_EXCL fails on anything in the way, a symbolic link included (it is not followed).
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record)}\n`);
  } finally {
    closeSync(fd);
  }
  return () => rmSync(file, { force: true });
}

/**
 * Reads one PID file: the record it holds if it is a regular file of this
 * user that names a live process with the recorded start time in this boot;
 * undefined otherwise (stale, planted or unreadable).
 */
function liveRecord(file: string, uid: number | undefined): PidRecord | undefined {
  try {
    const stats = lstatSync(file);
    if (!stats.isFile() || (uid !== undefined && stats.uid !== uid)) return undefined;
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<PidRecord>;
    if (typeof saved.pid !== 'number' || !Number.isSafeInteger(saved.pid) || saved.pid <= 0) return undefined;
    if (path.basename(file) !== `${saved.pid}.pid`) return undefined;
    const now = recordOf(saved.pid);
    if (now === undefined || now.start_time !== (saved.start_time ?? null) || now.boot_id !== (saved.boot_id ?? null)) {
      return undefined;
    }
    return now;
  } catch {
    return undefined;
  }
}

/** The pids of live workers in one queue folder; every other entry ending in `.pid` is removed. */
function livePids(dir: string): number[] {
  const uid = currentUid();
  const pids: number[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.pid')) continue;
    const file = path.join(dir, name);
    const record = liveRecord(file, uid);
    if (record !== undefined) pids.push(record.pid);
    else rmSync(file, { force: true });
  }
  return pids;
}

/**
 * The PIDs of live workers (of one queue, or of all); stale files are
 * removed. Throws UnsafePathError when a folder is not this user's or others
 * can write to it.
 */
export function listWorkerPids(queue: string | undefined, env: NodeJS.ProcessEnv = process.env): number[] {
  const root = pidRoot(env);
  if (lstatSync(root, { throwIfNoEntry: false }) === undefined) return [];
  ownerOnlyFolders(root);
  const queues = queue === undefined ? readdirSync(root) : [queue];
  const pids: number[] = [];
  for (const name of queues) {
    // Only folders: a link in their place (refused for a queue asked for by name) is never followed.
    const stats = lstatSync(path.join(root, name), { throwIfNoEntry: false });
    if (stats === undefined || (queue === undefined && !stats.isDirectory())) continue;
    pids.push(...livePids(ownerOnlyFolders(root, name)));
  }
  return pids;
}

/** What `jobq signal ACTION` sends. */
export const signalForAction = { drain: 'SIGUSR1', stop: 'SIGUSR2', preempt: 'SIGTERM' } as const;
export type SignalAction = keyof typeof signalForAction;

/** Sends the action's signal to every live worker (of one queue, or of all); returns their PIDs. */
export function signalWorkers(action: SignalAction, queue: string | undefined, env: NodeJS.ProcessEnv = process.env): number[] {
  const signalled: number[] = [];
  for (const pid of listWorkerPids(queue, env)) {
    try {
      process.kill(pid, signalForAction[action]);
      signalled.push(pid);
    } catch {
      // it exited in between
    }
  }
  return signalled;
}
