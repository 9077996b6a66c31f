import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';

/** Asks on a TTY; without one, refuses unless --yes was given (nothing is deleted by accident). */
export async function confirm(question: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) throw new UsageError(`${question.replace(/\?$/, '')}: refused without --yes when not on a terminal`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
