/**
 * Fuzzes what `push` does with stdin lines (kwargsFromLines, then
 * prepareTasks): only a UsageError naming a bad line may come out (JSON syntax
 * is checked for every line before what the JSON holds), and
 * input made only of valid lines — non-empty lines not starting with `{`, and
 * JSON object lines (with finite numbers, and an object `env` when -e adds to
 * it) — is always accepted, one task per line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteBackend } from '../../src/backends/sqlite.js';
import { hasCode } from '../../src/errors.js';
import { kwargsFromLines, prepareTasks } from '../../src/push.js';
import { JobQueue } from '../../src/queue/job-queue.js';
import { seedFromEnv, seededRandom, type Random } from '../helpers/random.js';
import { forBudget, mutate, randomObject, randomText } from './generators.js';

const seed = seedFromEnv('FUZZ_SEED');
const dir = mkdtempSync(path.join(os.tmpdir(), 'jobq-fuzz-'));
const queue = new JobQueue(openSqliteBackend(path.join(dir, 'jobq.db')), 'fuzz', true);
after(async () => {
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (isPlainObject(value)) return Object.values(value).every(allFinite);
  return true;
}

/** 'blank', 'valid' or 'invalid', by the rule of SPEC §5 (independently of the implementation). */
function classify(raw: string, addsEnv: boolean): 'blank' | 'valid' | 'invalid' {
  const trimmed = (raw.endsWith('\r') ? raw.slice(0, -1) : raw).trim();
  if (trimmed === '') return 'blank';
  if (!trimmed.startsWith('{')) return 'valid';
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return 'invalid';
  }
  if (!isPlainObject(value) || !allFinite(value)) return 'invalid';
  if (addsEnv && Object.hasOwn(value, 'env') && value['env'] !== undefined && !isPlainObject(value['env'])) return 'invalid';
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
      return random.pick(['', '   ', '\t', '\r', '{', '{}', '{"a": 1e999}', '[1]', '"{"', '{"a": 1}\r']);
    default:
      return `python train.py --seed ${random.int(0, 99)} ${randomText(random, 10)}`;
  }
}

test(`push lines: only UsageError for bad input, every valid input accepted (seed ${seed})`, (t) => {
  const random = seededRandom(seed);
  const runs = forBudget(20_000, 3_000, () => {
    const lines = Array.from({ length: random.int(1, 6) }, () => randomLine(random).replace(/[\n\r](?!$)/g, ' '));
    const env: Record<string, string> = random.next() < 0.3 ? { JOBQ_FUZZ: randomText(random, 5) } : {};
    const kinds = lines.map((line) => classify(line, Object.keys(env).length > 0));
    const firstBad = kinds.indexOf('invalid');
    try {
      const numbered = kwargsFromLines(lines, env);
      const { tasks } = prepareTasks(queue, numbered.map((entry) => entry.kwargs), {}, (index) => `line ${numbered[index]?.line}`);
      assert.equal(firstBad, -1, `accepted a bad line: ${JSON.stringify(lines[firstBad])} (seed ${seed})`);
      assert.equal(tasks.length, kinds.filter((kind) => kind === 'valid').length, `one task per line (seed ${seed})`);
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      assert.ok(hasCode(err, 'USAGE'), `${JSON.stringify(lines)} threw ${String(err)} (seed ${seed})`);
      assert.notEqual(firstBad, -1, `refused valid input ${JSON.stringify(lines)}: ${String(err)} (seed ${seed})`);
      const named = Number(/^line (\d+): /.exec((err as Error).message)?.[1]);
      assert.equal(kinds[named - 1], 'invalid', `names a bad line of ${JSON.stringify(lines)}: ${String(err)} (seed ${seed})`);
    }
  });
  t.diagnostic(`${runs} rounds, seed ${seed}`);
});
