/**
 * Shell tasks die with their worker. A task runs in a session of its own, so
 * when its worker is SIGKILLed (the kernel's OOM killer, a crash of node)
 * nothing would stop it: it would run on, unsupervised, while its message
 * reappears and another worker runs it again.
 *
 * The guard is a small POSIX shell (GUARD, about 2 MB; a node process would
 * take 40) started with the first task. The worker tells it through a pipe
 * which task sessions are running (`+ID` when one starts, `-ID` when it is
 * over). The pipe closes when the worker exits, whichever way; if sessions
 * are still listed then, the worker died with tasks running, and the guard
 * treats them as a stop would: SIGTERM (and SIGCONT) once to every process of
 * them, found in /proc as session.ts does, again for processes that appear,
 * and SIGKILL to all from the kill timeout on, until none is left. Without
 * /proc it signals each session's process group instead. After a normal end
 * nothing is listed and the guard just exits.
 *
 * Should the guard itself die while the worker runs (killed by someone, the
 * OOM killer), the worker logs it and starts a new one, at most once a
 * RESTART_INTERVAL_MS, and tells it every session still running: the worker
 * keeps its own list of them for that. A session the spawn addon announced
 * on the old guard's channel after it died is told to the new guard when
 * the spawn reports it (`watch`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { announcementsTo, closeAnnouncements } from './session-spawn.js';

/**
 * The guard: $1 is how many 0.1 s rounds pass before SIGKILL. Its variables
 * are prefixed, as the pty supervisor's are. POSIX sh, so that it runs
 * wherever tasks do.
 */
const GUARD = [
  'jobq_kill_rounds=$1',
  "jobq_sessions=' '",
  'while IFS= read -r jobq_line; do',
  '  jobq_id=${jobq_line#?}',
  // Only whole numbers: a line cut short (a write split when the pipe was full) must not name another session.
  "  case $jobq_id in ''|*[!0-9]*) continue ;; esac",
  '  case $jobq_line in',
  '    +*) jobq_sessions="$jobq_sessions$jobq_id " ;;',
  '    -*) case $jobq_sessions in *" $jobq_id "*) jobq_sessions="${jobq_sessions%% $jobq_id *} ${jobq_sessions#* $jobq_id }" ;; esac ;;',
  '  esac',
  'done',
  "[ \"$jobq_sessions\" = ' ' ] && exit 0",
  'if [ ! -r /proc/self/stat ]; then',
  '  for jobq_id in $jobq_sessions; do kill -s TERM -- "-$jobq_id" 2>/dev/null; done',
  '  exit 0',
  'fi',
  "jobq_signalled=' ' jobq_round=0",
  'while :; do',
  '  jobq_alive=',
  '  for jobq_stat in /proc/[0-9]*/stat; do',
  '    read -r jobq_text < "$jobq_stat" 2>/dev/null || continue',
  '    set -- ${jobq_text##*") "}',
  '    case $jobq_sessions in *" $4 "*) ;; *) continue ;; esac',
  '    [ "$1" = Z ] && continue',
  '    jobq_pid=${jobq_stat#/proc/}',
  '    jobq_pid=${jobq_pid%/stat}',
  '    jobq_alive=1',
  '    if [ "$jobq_round" -ge "$jobq_kill_rounds" ]; then',
  '      kill -s KILL "$jobq_pid" 2>/dev/null',
  '    else',
  '      case $jobq_signalled in *" $jobq_pid "*) continue ;; esac',
  '      jobq_signalled="$jobq_signalled$jobq_pid "',
  '      kill -s TERM "$jobq_pid" 2>/dev/null; kill -s CONT "$jobq_pid" 2>/dev/null',
  '    fi',
  '  done',
  '  [ -z "$jobq_alive" ] && exit 0',
  '  PATH="/usr/bin:/bin:$PATH" sleep 0.1 2>/dev/null || PATH="/usr/bin:/bin:$PATH" sleep 1',
  '  jobq_round=$((jobq_round + 1))',
  'done',
].join('\n');

/** How long `-ID` lines wait, to go out together. */
const UNWATCH_DELAY_MS = 200;
/** The shortest time between two starts of a guard: one that keeps dying is not restarted in a loop. */
const RESTART_INTERVAL_MS = 1000;

/** Where the addon announces a session: a channel, and which guard it leads to. */
export interface AnnouncementChannel {
  /** The file descriptor, or -1 for none. */
  readonly fd: number;
  /** Which start of the guard the channel belongs to. */
  readonly generation: number;
}

export class SessionGuard {
  private guard: ChildProcess | undefined;
  /** How many guards were started; a channel of an older one leads to a dead guard. */
  private generation = 0;
  private lastStart = Number.NEGATIVE_INFINITY;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Every session running now, to tell a new guard. */
  private readonly sessions = new Set<number>();
  /** `-ID` lines not yet written. */
  private pending: string[] = [];
  /** Where the spawn addon announces new sessions itself (see announcements()), or -1. */
  private announcementChannel = -1;
  /** Channels of guards that died: closed only by close(), as a spawn under way may still write to one. */
  private readonly retiredChannels: number[] = [];

  constructor(
    private readonly options: {
      /** How long the guard waits between a dead worker's SIGTERM to its tasks and their SIGKILL, ms. */
      readonly killTimeoutMs: number;
      /** Whether shells start through the spawn addon, which announces sessions itself. */
      readonly nativeSpawn: boolean;
      /** Where a guard's death is reported, one line. */
      readonly warn: (message: string) => void;
    },
  ) {}

  /**
   * A channel for the spawn addon (session-spawn.ts) to announce a session on
   * as it starts it, before node hears of it; fd -1 when there is none. Valid
   * until close().
   */
  announcements(): AnnouncementChannel {
    if (this.closed || !this.options.nativeSpawn) return { fd: -1, generation: this.generation };
    this.started();
    return { fd: this.announcementChannel, generation: this.generation };
  }

  /**
   * A task session started (its id is its shell's pid); at once: until the
   * guard knows, it cannot stop it. `announcedOn`: the channel the addon
   * already announced it on (nothing is written unless that guard has died since).
   */
  watch(sessionId: number, announcedOn?: AnnouncementChannel): void {
    if (this.closed) return;
    this.sessions.add(sessionId);
    const guard = this.started();
    if (announcedOn === undefined || announcedOn.fd < 0 || announcedOn.generation !== this.generation) {
      guard.stdin?.write(`+${sessionId}\n`);
    }
  }

  /**
   * A task session is over. Such lines go out together, UNWATCH_DELAY_MS
   * after the first (each write wakes the guard): being late only means that
   * a worker dying meanwhile has the guard look for sessions that are gone.
   */
  unwatch(sessionId: number): void {
    if (this.closed) return;
    this.sessions.delete(sessionId);
    if (this.pending.length === 0) setTimeout(() => this.flush(), UNWATCH_DELAY_MS).unref();
    this.pending.push(`-${sessionId}`);
  }

  /** No more tasks (and no spawn under way): the guard exits once it has read what was sent. */
  close(): void {
    this.flush();
    this.closed = true;
    clearTimeout(this.restartTimer);
    for (const channel of [this.announcementChannel, ...this.retiredChannels]) closeAnnouncements(channel);
    this.announcementChannel = -1;
    this.retiredChannels.length = 0;
    this.guard?.stdin?.end();
  }

  /** The guard, started with the first task (or again after it died). */
  private started(): ChildProcess {
    if (this.guard === undefined) {
      const guard = startGuard(Math.ceil(this.options.killTimeoutMs / 100));
      this.guard = guard;
      this.generation += 1;
      this.lastStart = Date.now();
      guard.once('exit', (code, signal) => this.died(guard, code, signal));
      // The pipe's fd: a net.Socket's handle has it; the addon writes to a copy.
      this.announcementChannel = announcementsTo((guard.stdin as { _handle?: { fd?: number } } | null)?._handle?.fd);
    }
    return this.guard;
  }

  /** The guard exited: after close() that is its normal end; before, it was killed, and a new one takes over. */
  private died(guard: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed || guard !== this.guard) return;
    this.guard = undefined;
    if (this.announcementChannel >= 0) this.retiredChannels.push(this.announcementChannel);
    this.announcementChannel = -1;
    const how = signal === null ? `with code ${code}` : `killed by ${signal}`;
    const wait = Math.max(0, this.lastStart + RESTART_INTERVAL_MS - Date.now());
    this.options.warn(
      `the session guard (pid ${guard.pid}) exited ${how}; tasks would outlive a death of this worker: starting a new guard` +
        (wait > 0 ? ` in ${wait} ms` : ''),
    );
    this.restartTimer = setTimeout(() => this.restart(), wait);
    this.restartTimer.unref();
  }

  /** Starts a new guard and tells it every running session. */
  private restart(): void {
    if (this.closed || this.guard !== undefined) return;
    const guard = this.started();
    if (this.sessions.size > 0) guard.stdin?.write([...this.sessions].map((id) => `+${id}\n`).join(''));
    this.options.warn(`new session guard (pid ${guard.pid}) watching ${this.sessions.size} running task session(s)`);
  }

  private flush(): void {
    const lines = this.pending;
    if (lines.length === 0) return;
    this.pending = [];
    this.guard?.stdin?.write(`${lines.join('\n')}\n`);
  }
}

function startGuard(rounds: number): ChildProcess {
  // Its own session: a Ctrl-C for the worker's process group must not end it.
  const child = spawn('/bin/sh', ['-c', GUARD, 'jobq-session-guard', String(rounds)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // If the guard cannot start or dies, tasks merely lose this protection.
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  child.unref();
  // The pipe must not keep the worker alive either (a net.Socket, typed as a plain stream).
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  return child;
}
