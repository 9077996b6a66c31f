import { readFileSync, readdirSync } from 'node:fs';
import { readStat } from '../../src/processors/shell/session.js';

/** PIDs of live (non-zombie) processes, other than this one, that `matches` accepts; read from /proc. */
function livePids(matches: (pid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const state = readStat(pid)?.state;
      if (state !== undefined && state !== 'Z' && matches(pid)) pids.push(pid);
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return pids;
}

/** PIDs of live processes whose command line contains `text`. */
export function pidsMatching(text: string): number[] {
  return livePids((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(text));
}

/**
 * PIDs of live processes whose environment has `name=value` (readable for this
 * user's own processes): how a test finds what is left of a queue's tasks.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  return livePids((pid) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(wanted));
}

/**
 * PIDs of live processes whose arguments are exactly `argv` and whose
 * environment has `name=value`: a test's own task processes (say `sleep 10`
 * run by a worker with its JOBQ_HOME), not the shells that started them nor
 * another test's.
 */
export function pidsOfTask(argv: readonly string[], env: { name: string; value: string }): number[] {
  const wantedArgv = argv.join('\0') + '\0';
  const wantedEnv = `${env.name}=${env.value}`;
  return livePids(
    (pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wantedArgv &&
      readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(wantedEnv),
  );
}

/** SIGKILLs every process whose command line contains `text` (test cleanup). */
export function killMatching(text: string): void {
  killAll(pidsMatching(text));
}

/** SIGKILLs every process whose environment has `name=value` (test cleanup). */
export function killWithEnv(name: string, value: string): void {
  killAll(pidsWithEnv(name, value));
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
