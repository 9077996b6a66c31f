/**
 * Fuzzes what `push` makes of one stdin line (lineKwargsJson, then the task):
 * only an INVALID_TASK error may come out of a bad line, and every valid line
 * is accepted: a non-blank line not starting with `{` that a shell can be
 * given (no NUL, no lone surrogate), or a JSON object line (finite numbers, an
 * object `env` if any, and a `cmd`, `cwd` and env strings a shell can be
 * given). The rule is written here independently of the implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCode } from '../../src/errors.js';
import { isBlankLine, lineKwargsJson, type PushSettings } from '../../src/push/input.js';
import { createTaskFromKwargsJson } from '../../src/task/task.js';
import { seedFromEnv, seededRandom, type Random } from '../helpers/random.js';
import { forBudget, mutate, randomObject, randomText } from './generators.js';

const seed = seedFromEnv('FUZZ_SEED');

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (isPlainObject(value)) return Object.values(value).every(allFinite);
  return true;
}

/** Text a command line can carry: no NUL, and every surrogate in a pair. */
function shellText(text: string): boolean {
  if (text.includes('\0')) return false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 1;
    } else if (code >= 0xdc00 && code <= 0xdfff) return false;
  }
  return true;
}

/** 'valid' or 'invalid' for a non-blank line, by the rule of SPEC §5 and the reference. */
function classify(line: string): 'valid' | 'invalid' {
  if (!line.startsWith('{')) return shellText(line) ? 'valid' : 'invalid';
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'invalid';
  }
  if (!isPlainObject(value) || !allFinite(value)) return 'invalid';
  const env = value['env'];
  if (env !== undefined && !isPlainObject(env)) return 'invalid';
  for (const [key, item] of Object.entries(env ?? {})) if (typeof item === 'string' && !shellText(`${key}=${item}`)) return 'invalid';
  for (const key of ['cmd', 'cwd']) {
    const text = value[key];
    if (typeof text === 'string' && !shellText(text)) return 'invalid';
  }
  return 'valid';
}

/** A line with no line break in it: a command, a JSON object, a broken one, or blank. */
function randomLine(random: Random): string {
  const object = JSON.stringify(randomObject(random));
  switch (random.int(0, 5)) {
    case 0:
      return randomText(random, 50);
    case 1:
      return ' '.repeat(random.int(0, 2)) + object;
    case 2:
      return mutate(random, object);
    case 3:
      return `{"cmd": ${JSON.stringify(randomText(random))}, "env": ${random.next() < 0.5 ? '{"A": "1"}' : JSON.stringify(randomText(random, 3))}}`;
    case 4:
      return random.pick(['', '   ', '\t', '\r', '{', '{}', '{"a": 1e999}', '[1]', '"{"', '{"a": 1}\r', '{"a": NaN}', '{"cmd": "a\\u0000b"}']);
    default:
      return `python train.py --seed ${random.int(0, 99)} ${randomText(random, 10)}`;
  }
}

test(`push lines: only INVALID_TASK for a bad line, every valid line accepted (seed ${seed})`, (t) => {
  const random = seededRandom(seed);
  const runs = forBudget(20_000, 3_000, () => {
    const text = randomLine(random).replace(/[\n\r](?!$)/g, ' ') + (random.next() < 0.5 ? '\n' : '');
    if (isBlankLine(text)) return;
    const settings: PushSettings = {
      env: new Map(random.next() < 0.3 ? [['JOBQ_FUZZ', randomText(random, 5).replace(/[\0\ud800-\udfff]/g, '')]] : []),
      bgDirsyncTo: random.next() < 0.3 ? '/tmp/sync' : null,
    };
    const kind = classify(text);
    try {
      const task = createTaskFromKwargsJson(lineKwargsJson(text, settings));
      assert.equal(kind, 'valid', `accepted a bad line: ${JSON.stringify(text)} (seed ${seed})`);
      assert.ok(isPlainObject(task.kwargs));
      assert.ok('env' in task.kwargs || !text.startsWith('{'), 'a JSON line gets an env');
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.ok(hasCode(err, 'INVALID_TASK'), `${JSON.stringify(text)} threw ${String(err)} (seed ${seed})`);
      assert.equal(kind, 'invalid', `refused a valid line ${JSON.stringify(text)}: ${String(err)} (seed ${seed})`);
    }
  });
  t.diagnostic(`${runs} rounds, seed ${seed}`);
});
