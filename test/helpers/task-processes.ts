import { readFileSync, readdirSync } from 'node:fs';

/**
 * PIDs of live (non-zombie) processes whose environment has `name=value`,
 * read from /proc/<pid>/environ (readable for this user's own processes):
 * how a test finds what is left of a queue's tasks (JOBQ_QUEUE_NAME).
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state === 'Z') continue;
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(wanted)) pids.push(pid);
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return pids;
}
