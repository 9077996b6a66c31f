/**
 * The session guard process (see session-guard.ts): reads `+ID`/`-ID` lines
 * until its stdin closes, then stops the sessions still listed: SIGTERM to
 * every process of them, SIGKILL from JOBQ_KILL_TIMEOUT (default 600 s) on,
 * until none is left.
 */
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDuration } from '../options/duration.js';
import { ProcessSession } from './session.js';

const RESCAN_MS = 100;

function killTimeoutMs(): number {
  try {
    return parseDuration(process.env['JOBQ_KILL_TIMEOUT'] ?? '600');
  } catch {
    return 600_000;
  }
}

const sessions = new Set<number>();
for await (const line of createInterface({ input: process.stdin })) {
  const id = Number(line.slice(1));
  if (!Number.isSafeInteger(id) || id <= 1) continue;
  if (line.startsWith('+')) sessions.add(id);
  else if (line.startsWith('-')) sessions.delete(id);
}
const orphaned = [...sessions].map((id) => new ProcessSession(id));
const killAt = Date.now() + killTimeoutMs();
for (;;) {
  const kill = Date.now() >= killAt;
  const alive = orphaned.map((session) => (kill ? session.kill() : session.terminate()));
  if (!alive.includes(true)) break;
  await delay(RESCAN_MS);
}
