import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.js';

export interface ConfirmOptions {
  /**
   * Without a terminal to ask on: `proceed` (as the reference's `clear` does)
   * or `refuse` unless --yes was given (default).
   */
  withoutTerminal?: 'proceed' | 'refuse';
}

/** Asks on a terminal (stdin); without one, proceeds or refuses as `options` say. --yes never asks. */
export async function confirm(question: string, yes: boolean, options: ConfirmOptions = {}): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    if (options.withoutTerminal === 'proceed') return true;
    throw new UsageError(`${question.replace(/\?$/, '')}: refused without --yes when not on a terminal`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
