import { readFileSync, readdirSync } from 'node:fs';

/** PIDs of live (non-zombie) processes whose command line contains `text`, read from /proc. */
export function pidsMatching(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(text) && state !== 'Z') pids.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** SIGKILLs every process whose command line contains `text` (test cleanup). */
export function killMatching(text: string): void {
  for (const pid of pidsMatching(text)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
