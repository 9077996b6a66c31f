/**
 * Random inputs for the fuzz tests, from a seeded source: text of every kind
 * (ASCII, controls, astral characters, lone surrogates), JSON values, and
 * mutations of valid text. A time and count budget keeps each run to a few
 * seconds; FUZZ_SEED replays one.
 */
import type { Random } from '../helpers/random.js';

/** Characters worth trying: JSON's syntax, quotes, controls, non-ASCII, astral, lone surrogates. */
const alphabet = ['{', '}', '[', ']', '"', '\\', ':', ',', ' ', '\t', '\r', '\0', '\u007f', 'é', '€', '\u2028', '\uffff', '\ufeff', '😀', '\ud800', '\udfff', 'a', 'z', '0', '9', '-', '.', 'e', 'n', 't', 'u', 'l', 'f'];

export function randomText(random: Random, maxLength = 40): string {
  let text = '';
  const length = random.int(0, maxLength);
  for (let i = 0; i < length; i += 1) {
    text += random.next() < 0.5 ? random.pick(alphabet) : String.fromCharCode(random.int(0x20, 0x7e));
  }
  return text;
}

/** A random JSON value with finite numbers (nested up to `depth`). */
export function randomJson(random: Random, depth = 3): unknown {
  const kind = random.int(0, depth > 0 ? 6 : 4);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.next() < 0.5;
    case 2:
      return random.next() < 0.5 ? random.int(-1e6, 1e6) : (random.next() - 0.5) * 10 ** random.int(-10, 25);
    case 3:
    case 4:
      return randomText(random, 12);
    case 5:
      return Array.from({ length: random.int(0, 4) }, () => randomJson(random, depth - 1));
    default:
      return randomObject(random, depth - 1);
  }
}

export function randomObject(random: Random, depth = 2): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let i = random.int(0, 5); i > 0; i -= 1) object[randomText(random, 8)] = randomJson(random, depth);
  return object;
}

/** `text` with a few random characters replaced, inserted or deleted. */
export function mutate(random: Random, text: string): string {
  let result = text;
  for (let edits = random.int(1, 4); edits > 0; edits -= 1) {
    const at = random.int(0, result.length);
    const choice = random.int(0, 2);
    const insert = random.pick(alphabet);
    if (choice === 0) result = result.slice(0, at) + insert + result.slice(at + 1);
    else if (choice === 1) result = result.slice(0, at) + insert + result.slice(at);
    else result = result.slice(0, at) + result.slice(at + 1);
  }
  return result;
}

/** Runs `step` until `count` iterations or `ms` have passed, whichever comes first; returns the iterations run. */
export function forBudget(count: number, ms: number, step: (iteration: number) => void): number {
  const deadline = Date.now() + ms;
  let iteration = 0;
  while (iteration < count && Date.now() < deadline) step(iteration++);
  return iteration;
}
