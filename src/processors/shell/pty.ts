/**
 * The pseudo-terminal variant of a shell task (`--emulate-tty`): the command's
 * stdout and stderr are a terminal, so programs line-buffer their output as
 * they would for a person. The terminal gives one merged stream, logged as
 * stdout.
 *
 * node-pty makes the process it starts a session leader with the terminal as
 * its controlling terminal, which brings three hazards:
 *
 * - When the leader exits, the kernel sends SIGHUP to the terminal's
 *   foreground process group. Were the task's bash the leader, a stop would
 *   kill every program bash started in the middle of its checkpoint: bash dies
 *   of the SIGTERM, the program of the SIGHUP.
 * - node-pty stops reading 200 ms after the leader exits.
 * - When the last process closes the terminal, libuv may take the hangup for
 *   the end of the output while the kernel still holds some of it (it trusts a
 *   short read, which a terminal gives long before it is empty): a fast
 *   command's last lines go missing.
 *
 * So the leader is a small supervisor shell (SUPERVISOR) that runs the command
 * as its child; after a stop it stays until it is the last process of its
 * session; and before it exits it writes an end marker and waits until we have
 * read it (and so everything before it) and answer with SIGUSR1.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as NodePty from 'node-pty';
import type { IDisposable } from 'node-pty';
import { UsageError, errorMessage } from '../../errors.js';
import { LineSplitter } from './line-splitter.js';
import { exitOf } from './session-spawn.js';
import type { ShellChild, ShellExit, ShellLaunch } from './launch.js';

/**
 * The session leader; its arguments are a nonce for the end marker, then the
 * command's shell and its arguments. It runs the command in a subshell that
 * restores SIGINT and SIGQUIT (which `&` leaves ignored; stdin is /dev/null, as
 * for a piped task) and waits for it, again after each signal that interrupts
 * the wait. After a SIGTERM it stays until no other process of its session is
 * alive (on Linux; the session is read from /proc as session.ts does). Then it
 * writes the end marker (an OSC sequence) and waits for SIGUSR1, for at most
 * fifty short sleeps (a stop's SIGTERM may end one early), and exits as its
 * child did, re-raising the child's signal, if any. Its own stderr is silenced
 * so that its job messages ("Terminated") stay out of the task's output. Its
 * variables are prefixed, as the task's env is imported as shell variables and
 * reaches the command. POSIX sh, so that it runs under /bin/sh when there is no
 * bash.
 */
const SUPERVISOR = [
  'jobq_nonce=$1; shift',
  'jobq_stopping= jobq_interrupted= jobq_marked= jobq_sleeper=',
  'jobq_finish() {',
  '  if [ "$jobq_status" -gt 128 ]; then trap - TERM USR1; kill -"$((jobq_status - 128))" "$$"; fi',
  '  exit "$jobq_status"',
  '}',
  "trap 'jobq_stopping=1 jobq_interrupted=1' TERM",
  `trap 'jobq_interrupted=1; if [ -n "$jobq_marked" ]; then kill "$jobq_sleeper"; jobq_finish; fi' USR1`,
  '( trap - INT QUIT; exec "$@" ) &',
  'jobq_child=$!',
  'exec 2>/dev/null',
  'while :; do',
  '  jobq_interrupted=',
  '  wait "$jobq_child"; jobq_status=$?',
  '  [ -z "$jobq_interrupted" ] && break',
  'done',
  'if [ -n "$jobq_stopping" ] && [ -r "/proc/$$/stat" ]; then',
  '  while :; do',
  '    jobq_alone=1',
  '    for jobq_stat in /proc/[0-9]*/stat; do',
  '      [ "$jobq_stat" = "/proc/$$/stat" ] && continue',
  '      read -r jobq_line < "$jobq_stat" || continue',
  '      set -- ${jobq_line##*") "}',
  '      if [ "$4" = "$$" ] && [ "$1" != Z ]; then jobq_alone=; break; fi',
  '    done',
  '    [ -n "$jobq_alone" ] && break',
  '    PATH="/usr/bin:/bin:$PATH" sleep 0.1',
  '    [ "$?" -eq 127 ] && break',
  '  done',
  'fi',
  'jobq_marked=1',
  "printf '\\033]jobq-end;%s\\007' \"$jobq_nonce\"",
  'jobq_wait=0',
  'while [ "$jobq_wait" -lt 50 ]; do',
  '  PATH="/usr/bin:/bin:$PATH" sleep 0.1 & jobq_sleeper=$!',
  '  wait "$jobq_sleeper"; jobq_wait=$((jobq_wait + 1))',
  'done',
  'jobq_finish',
].join('\n');

/** The terminal's size: wide enough that programs do not wrap their progress lines. */
const COLUMNS = 200;
const ROWS = 50;

const require = createRequire(import.meta.url);

/**
 * node-pty, an optional dependency (a native module that needs a compiler to
 * build): loaded on first use, so that only `--emulate-tty` needs it. A
 * UsageError that says how to get it when it is missing or did not build.
 */
export function loadNodePty(): typeof NodePty {
  try {
    return require('node-pty') as typeof NodePty;
  } catch (err) {
    throw new UsageError(
      `--emulate-tty needs the optional package node-pty, which cannot be loaded (${errorMessage(err).split('\n')[0]}): ` +
        'install it with `npm install node-pty` (it builds with a C++ compiler), or run without --emulate-tty',
      { cause: err },
    );
  }
}

/** How many characters at the end of `text` could be the start of `marker`. */
function partialMarkerLength(text: string, marker: string): number {
  for (let length = Math.min(marker.length - 1, text.length); length > 0; length--) {
    if (marker.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}

/**
 * Passes text on to `splitter` without the end marker, which may arrive split
 * across chunks, and calls `onMarker` once it has passed.
 */
function markerFilter(marker: string, splitter: LineSplitter, onMarker: () => void) {
  let held = '';
  let seen = false;
  return {
    push(text: string): void {
      if (seen) return splitter.push(text);
      const data = held + text;
      const at = data.indexOf(marker);
      if (at >= 0) {
        seen = true;
        held = '';
        splitter.push(data.slice(0, at) + data.slice(at + marker.length));
        onMarker();
        return;
      }
      const keep = partialMarkerLength(data, marker);
      held = data.slice(data.length - keep);
      splitter.push(data.slice(0, data.length - keep));
    },
    end(): void {
      splitter.push(held);
      held = '';
      splitter.end();
    },
  };
}

/**
 * Starts a shell command under a pseudo-terminal. Throws when the terminal
 * cannot be created, or node-pty cannot be loaded.
 */
export function startPtyShell(launch: ShellLaunch, log: (line: string) => void): ShellChild {
  const nodePty = loadNodePty();
  const nonce = randomBytes(8).toString('hex');
  const terminal = nodePty.spawn(launch.file, ['-c', SUPERVISOR, 'jobq-pty', nonce, launch.file, ...launch.args], {
    ...(launch.cwd === undefined ? {} : { cwd: launch.cwd }),
    env: launch.env,
    cols: COLUMNS,
    rows: ROWS,
  });
  const output = markerFilter(`\x1b]jobq-end;${nonce}\x07`, new LineSplitter(log), () => {
    try {
      process.kill(terminal.pid, 'SIGUSR1');
    } catch {
      // the supervisor is gone already (killed, or tired of waiting)
    }
  });
  const subscriptions: IDisposable[] = [terminal.onData((text) => output.push(text))];
  const exited = new Promise<ShellExit>((resolve) => {
    subscriptions.push(
      terminal.onExit(({ exitCode, signal }) => resolve(exitOf(exitCode, signal))),
    );
  });
  return {
    pid: terminal.pid,
    exited,
    // node-pty reports the exit after it has stopped reading, and the end
    // marker made sure that was after the task's last output.
    drained: exited.then(() => undefined),
    release() {
      // node-pty has closed the terminal by the time it reports the exit;
      // what is left to free are the subscriptions.
      output.end();
      for (const subscription of subscriptions) subscription.dispose();
    },
  };
}
