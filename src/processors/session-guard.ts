/**
 * Shell tasks die with their worker. A task runs in a session of its own, so
 * when its worker is SIGKILLed (the kernel's OOM killer, a crash of node)
 * nothing would stop it: it would run on, unsupervised, while its message
 * reappears and another worker runs it again.
 *
 * The guard is a small process (session-guard-main.ts) started with the first
 * task. The worker tells it through a pipe which task sessions are running
 * (`+ID` when one starts, `-ID` when it is over). The pipe closes when the
 * worker exits, whichever way; if sessions are still listed then, the worker
 * died with tasks running, and the guard sends them SIGTERM (so they can
 * checkpoint) and SIGKILL after JOBQ_KILL_TIMEOUT, as a stop would. After a
 * normal end nothing is listed and the guard just exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const guardMain = fileURLToPath(new URL('./session-guard-main.js', import.meta.url));

export class SessionGuard {
  private guard: ChildProcess | undefined;
  private closed = false;

  /** A task session started (its id is its shell's pid). */
  watch(sessionId: number): void {
    this.send(`+${sessionId}`);
  }

  /** A task session is over. */
  unwatch(sessionId: number): void {
    this.send(`-${sessionId}`);
  }

  /** No more tasks: the guard exits once it has read what was sent. */
  close(): void {
    this.closed = true;
    this.guard?.stdin?.end();
  }

  private send(line: string): void {
    if (this.closed) return;
    this.guard ??= startGuard();
    this.guard.stdin?.write(`${line}\n`);
  }
}

function startGuard(): ChildProcess {
  // Its own session: a Ctrl-C for the worker's process group must not end it.
  const child = spawn(process.execPath, [guardMain], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // If the guard cannot start or dies, tasks merely lose this protection.
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  child.unref();
  // The pipe must not keep the worker alive either (a net.Socket, typed as a plain stream).
  (child.stdin as { unref?: () => void } | null)?.unref?.();
  return child;
}
