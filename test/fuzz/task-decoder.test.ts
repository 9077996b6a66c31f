/**
 * Fuzzes the task decoder (parseTask): whatever the body, only an
 * InvalidTaskError may come out, and every valid message is read, and read
 * back the same after writing it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCode } from '../../src/errors.js';
import { createTask, parseTask, serializeTask, type Task } from '../../src/task/task.js';
import { seedFromEnv, seededRandom, type Random } from '../helpers/random.js';
import { forBudget, mutate, randomJson, randomObject, randomText } from './generators.js';

const seed = seedFromEnv('FUZZ_SEED');

/** Parses, allowing only INVALID_TASK to be thrown; undefined when refused. */
function tryParse(body: string): Task | undefined {
  try {
    return parseTask(body);
  } catch (err) {
    assert.ok(hasCode(err, 'INVALID_TASK'), `body ${JSON.stringify(body)} threw ${String(err)} (seed ${seed})`);
    return undefined;
  }
}

function validTask(random: Random): Task {
  return createTask(randomObject(random), {
    numRetries: random.int(0, 5),
    replyRequested: random.next() < 0.3,
    deterministicId: random.next() < 0.8,
  });
}

test(`parseTask refuses every bad body with INVALID_TASK and reads every good one (seed ${seed})`, (t) => {
  const random = seededRandom(seed);
  const runs = forBudget(50_000, 3_000, () => {
    const task = validTask(random);
    const body = serializeTask(task);
    const parsed = tryParse(body);
    assert.deepEqual(parsed, task, `a valid message is read as written: ${body} (seed ${seed})`);
    assert.equal(serializeTask(parsed), body);

    const candidates = [
      mutate(random, body),
      randomText(random, 60),
      JSON.stringify(randomJson(random)),
      JSON.stringify({ ...JSON.parse(body), [random.pick(['version', 'reply_requested', 'kwargs', 'num_retries', 'id'])]: randomJson(random, 1) }),
    ];
    for (const candidate of candidates) {
      const read = tryParse(candidate);
      // Whatever is accepted is a task that writes and reads back the same.
      if (read !== undefined) assert.deepEqual(parseTask(serializeTask(read)), read, `${candidate} (seed ${seed})`);
    }
  });
  t.diagnostic(`${runs} rounds, seed ${seed}`);
});
