/**
 * The files of the local backend belong to one user. Whoever can write to
 * JOBQ_HOME can swap `jobq.db` for a database of their own, whose tasks a
 * worker then runs as its user (root included); whoever can read the
 * database reads every task's command and environment. So before the
 * database is opened:
 *
 * - JOBQ_HOME is created owner-only (0700) if it does not exist; one that
 *   exists must be owned by this user and not writable by group or others
 *   (files/owner-only.ts);
 * - the database is created owner-only (0600) without following a link, and
 *   one that exists must be owned by this user; the database and its `-wal`
 *   and `-shm` files are then set to 0600 (SQLite gives a new `-wal` or
 *   `-shm` the mode of the database).
 *
 * A home that fails the checks is refused with one line (exit 1).
 * JOBQ_ALLOW_SHARED_HOME=1 skips the checks and leaves the modes of existing
 * files alone, for a folder a team shares on purpose.
 */
import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { assertOwned, currentUid, ownerOnlyFolder, refusal, type OwnerOnlyOptions } from '../files/owner-only.js';

/** The environment variable that turns the checks off. */
export const ALLOW_SHARED_HOME_ENV = 'JOBQ_ALLOW_SHARED_HOME';

const OWNER_ONLY_FILE = 0o600;
const optIn = `set ${ALLOW_SHARED_HOME_ENV}=1 to use it anyway`;

/**
 * Makes `file`'s folder and the file itself ready to be opened by SQLite, as
 * described above. Throws UnsafePathError for a home that fails the checks;
 * file system errors (a home below a regular file) as they come.
 */
export function prepareDatabaseFiles(file: string, options: { allowSharedHome: boolean }): void {
  const home = path.dirname(file);
  const uid = currentUid();
  // Without user ids (Windows) there is nothing to compare.
  const check = uid !== undefined && !options.allowSharedHome;
  if (check) ownerOnlyFolder(home, { what: `JOBQ_HOME ${home}`, optIn });
  else mkdirSync(home, { recursive: true, mode: 0o700 });
  // Created here, owner-only from the first byte; never through a link planted in its place.
  try {
    closeSync(openSync(file, constants.O_RDWR | constants.O_CREAT | (check ? constants.O_NOFOLLOW : 0), OWNER_ONLY_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw refusal(`${file} is a symbolic link`, 'remove it', { optIn });
    throw err;
  }
  if (!check) return;
  const what: OwnerOnlyOptions = { what: `the local queue database ${file}`, optIn };
  assertOwned(statSync(file), uid, what);
  for (const own of [file, `${file}-wal`, `${file}-shm`]) tighten(own, uid);
}

/** Sets a file of this user to 0600 if it exists and is not already. */
function tighten(file: string, uid: number): void {
  const stats = statSync(file, { throwIfNoEntry: false });
  if (stats === undefined || stats.uid !== uid || (stats.mode & 0o777) === OWNER_ONLY_FILE) return;
  chmodSync(file, OWNER_ONLY_FILE);
}

/** How often a process looks whether its database is still at its path. */
const WATCH_INTERVAL_MS = 1000;

/**
 * Whether the database file a process has open is still the one at its
 * path. Deleted (or replaced) while open, the old file lives on for this
 * process alone: a worker would go on leasing and settling in a file nobody
 * else sees, and everything it wrote would vanish when it exits. Looked at
 * once a second at most, as the queue is used; once gone, it stays gone.
 */
export class DatabaseFileWatch {
  private readonly device: number;
  private readonly inode: number;
  private nextCheck = 0;
  private gone: string | undefined;

  constructor(private readonly file: string) {
    const stats = statSync(file);
    this.device = stats.dev;
    this.inode = stats.ino;
  }

  /** Why the file at the path is no longer this process's database, or undefined while it is. */
  problem(): string | undefined {
    if (this.gone !== undefined || Date.now() < this.nextCheck) return this.gone;
    this.nextCheck = Date.now() + WATCH_INTERVAL_MS;
    let stats;
    try {
      stats = statSync(this.file, { throwIfNoEntry: false });
    } catch {
      return undefined; // not readable just now: nothing to conclude
    }
    if (stats === undefined) {
      this.gone = `the database ${this.file} was deleted while in use: stopping rather than go on in a file nobody else sees`;
    } else if (stats.dev !== this.device || stats.ino !== this.inode) {
      this.gone = `the database ${this.file} was replaced by another file while in use: stopping (start again to use the new one)`;
    }
    return this.gone;
  }
}
