/**
 * The files of the local backend belong to one user. Whoever can write to
 * JOBQ_HOME can swap `jobq.db` for a database of their own, whose tasks a
 * worker then runs as its user (root included); whoever can read the
 * database reads every task's command and environment. So before the
 * database is opened:
 *
 * - JOBQ_HOME is created owner-only (0700) if it does not exist; one that
 *   exists must be owned by this user and not writable by group or others;
 * - the database is created owner-only (0600) without following a link, and
 *   one that exists must be owned by this user; the database and its `-wal`
 *   and `-shm` files are then set to 0600 (SQLite gives a new `-wal` or
 *   `-shm` the mode of the database).
 *
 * A home that fails the checks is refused with one line (exit 1).
 * JOBQ_ALLOW_SHARED_HOME=1 skips the checks and leaves the modes of existing
 * files alone, for a folder a team shares on purpose.
 */
import { chmodSync, closeSync, constants, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { BackendError } from '../errors.js';

/** The environment variable that turns the checks off. */
export const ALLOW_SHARED_HOME_ENV = 'JOBQ_ALLOW_SHARED_HOME';

const OWNER_ONLY_FILE = 0o600;
const GROUP_OR_OTHERS_WRITE = 0o022;

/**
 * Makes `file`'s folder and the file itself ready to be opened by SQLite, as
 * described above. Throws a permanent BackendError for a home that fails the
 * checks; file system errors (a home below a regular file) are thrown as they come.
 */
export function prepareDatabaseFiles(file: string, options: { allowSharedHome: boolean }): void {
  const home = path.dirname(file);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const uid = process.geteuid?.();
  // Without user ids (Windows) there is nothing to compare.
  const check = uid !== undefined && !options.allowSharedHome;
  if (check) {
    const stats = statSync(home);
    refuseForeign(`JOBQ_HOME ${home}`, stats, uid);
    if ((stats.mode & GROUP_OR_OTHERS_WRITE) !== 0) {
      throw refusal(
        `JOBQ_HOME ${home} is writable by ${writers(stats.mode)} (mode ${octal(stats.mode)}), who could replace its database`,
        `chmod go-w ${home}`,
      );
    }
  }
  // Created here, owner-only from the first byte; never through a link planted in its place.
  try {
    closeSync(openSync(file, constants.O_RDWR | constants.O_CREAT | (check ? constants.O_NOFOLLOW : 0), OWNER_ONLY_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw refusal(`${file} is a symbolic link`, 'remove it');
    throw err;
  }
  if (!check) return;
  refuseForeign(`the local queue database ${file}`, statSync(file), uid);
  for (const own of [file, `${file}-wal`, `${file}-shm`]) tighten(own, uid);
}

function refuseForeign(what: string, stats: Stats, uid: number): void {
  if (stats.uid !== uid) {
    throw refusal(`${what} is owned by uid ${stats.uid}, not by this user (uid ${uid})`, 'use a JOBQ_HOME of your own');
  }
}

/** Sets a file of this user to 0600 if it exists and is not already. */
function tighten(file: string, uid: number): void {
  const stats = statSync(file, { throwIfNoEntry: false });
  if (stats === undefined || stats.uid !== uid || (stats.mode & 0o777) === OWNER_ONLY_FILE) return;
  chmodSync(file, OWNER_ONLY_FILE);
}

function refusal(problem: string, remedy: string): BackendError {
  return new BackendError(
    `${problem}: refusing to use it (${remedy}, or set ${ALLOW_SHARED_HOME_ENV}=1 to use it anyway)`,
    { permanent: true },
  );
}

function writers(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const others = (mode & 0o002) !== 0;
  return group && others ? 'group and others' : group ? 'its group' : 'others';
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
