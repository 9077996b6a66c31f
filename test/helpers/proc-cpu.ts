/** CPU time from /proc (Linux), for the bench's measure of who used the cores. */
import { readFileSync } from 'node:fs';
import { statFields } from '../../src/processors/shell/session.js';

/** Linux's USER_HZ, the unit of /proc's CPU times: 100 on every architecture it runs on. */
const clockTicksPerSecond = 100;

/**
 * utime + stime, in seconds, of the process or thread whose /proc stat file
 * this is (fields 14 and 15 of proc(5)); NaN when it cannot be read.
 */
export function cpuSecondsFromStat(file: string): number {
  try {
    const fields = statFields(readFileSync(file, 'utf8')) ?? [];
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return Number.NaN;
  }
}
