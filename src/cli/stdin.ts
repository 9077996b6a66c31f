import { createInterface } from 'node:readline';
import { UsageError } from '../errors.js';

/** Every line of stdin; refuses to wait on a terminal with nothing piped in. */
export async function readStdinLines(hint: string): Promise<string[]> {
  if (process.stdin.isTTY) throw new UsageError(`nothing to read: ${hint}`);
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    lines.push(line);
  }
  return lines;
}
