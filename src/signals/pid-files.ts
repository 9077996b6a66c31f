/**
 * PID files (SPEC §6.1): a running worker keeps `<pid>.pid` in a folder per
 * queue under JOBQ_PID_DIR (default: the user cache dir), so that
 * `jobq signal` can reach every worker on this machine.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function pidRoot(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['JOBQ_PID_DIR'];
  if (explicit) return path.resolve(explicit);
  const cache = env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(cache, 'jobq', 'workers');
}

/** Writes this process's PID file for `queue`; returns the function that removes it. */
export function writePidFile(queue: string, env: NodeJS.ProcessEnv = process.env): () => void {
  const dir = path.join(pidRoot(env), queue);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${process.pid}.pid`);
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PIDs of live workers (of one queue, or of all); stale files are removed. */
export function listWorkerPids(queue: string | undefined, env: NodeJS.ProcessEnv = process.env): number[] {
  const root = pidRoot(env);
  let queues: string[];
  try {
    queues = queue === undefined ? readdirSync(root) : [queue];
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of queues) {
    let files: string[];
    try {
      files = readdirSync(path.join(root, name));
    } catch {
      continue;
    }
    for (const file of files) {
      const pid = Number.parseInt(file, 10);
      if (!file.endsWith('.pid') || !Number.isSafeInteger(pid)) continue;
      if (isAlive(pid)) pids.push(pid);
      else rmSync(path.join(root, name, file), { force: true });
    }
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
