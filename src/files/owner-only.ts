/**
 * Folders and files that only their user may change. jobq keeps state that
 * decides what runs and what gets signalled (the local queue database, PID
 * files); whoever can write there can make a worker run their command or
 * `jobq signal` hit their choice of process. So such a folder is created
 * owner-only (0700), and one that exists must belong to this user and not be
 * writable by group or others.
 */
import { lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { UnsafePathError } from '../errors.js';

/** The permission bits that let group or others change a folder's entries. */
const GROUP_OR_OTHERS_WRITE = 0o022;

export interface OwnerOnlyOptions {
  /** How the folder is named in a refusal, e.g. `JOBQ_HOME /home/u/.local/share/jobq`. */
  readonly what: string;
  /** A symbolic link in its place is refused (a folder jobq itself creates). Default false: links are followed. */
  readonly refuseLink?: boolean;
  /** Appended to the remedy of a refusal, e.g. `set JOBQ_ALLOW_SHARED_HOME=1 to use it anyway`. */
  readonly optIn?: string;
}

/** This process's effective user id; undefined where there are none (Windows). */
export function currentUid(): number | undefined {
  return process.geteuid?.();
}

/**
 * Creates `dir` (and missing parents) owner-only, or checks an existing one:
 * it must be this user's and not writable by group or others. Throws
 * UnsafePathError otherwise; file system errors as they come.
 */
export function ownerOnlyFolder(dir: string, options: OwnerOnlyOptions): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = currentUid();
  if (uid === undefined) return;
  const stats = options.refuseLink ? lstatSync(dir) : statSync(dir);
  if (stats.isSymbolicLink()) throw refusal(`${options.what} is a symbolic link`, 'remove it', options);
  assertOwned(stats, uid, options);
  if ((stats.mode & GROUP_OR_OTHERS_WRITE) !== 0) {
    throw refusal(
      `${options.what} is writable by ${writers(stats.mode)} (mode ${octal(stats.mode)}), who could change what is in it`,
      `chmod go-w ${dir}`,
      options,
    );
  }
}

/** Refuses a file or folder that is not this user's. */
export function assertOwned(stats: Stats, uid: number, options: OwnerOnlyOptions): void {
  if (stats.uid !== uid) {
    throw refusal(`${options.what} is owned by uid ${stats.uid}, not by this user (uid ${uid})`, 'use one of your own', options);
  }
}

/** A refusal: the problem, then what to do about it. */
export function refusal(problem: string, remedy: string, options: Pick<OwnerOnlyOptions, 'optIn'>): UnsafePathError {
  return new UnsafePathError(`${problem}: refusing to use it (${remedy}${options.optIn ? `, or ${options.optIn}` : ''})`);
}

function writers(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const others = (mode & 0o002) !== 0;
  return group && others ? 'group and others' : group ? 'its group' : 'others';
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
