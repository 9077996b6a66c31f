import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createTask, parseTask, serializeTask, withRetries } from '../src/task/task.js';
import { pythonDumps, pythonNumber } from '../src/task/python-json.js';
import { fixturesDir } from './helpers/paths.js';

interface Vector {
  kwargs: Record<string, unknown>;
  num_retries: number;
  reply_requested: boolean;
  id: string;
  serialized: string;
}

const vectors = JSON.parse(readFileSync(path.join(fixturesDir, 'vectors', 'task-ids.json'), 'utf8')) as Vector[];

test('there are reference vectors to check', () => {
  assert.ok(vectors.length >= 10);
});

for (const [index, vector] of vectors.entries()) {
  test(`vector ${index}: a new task serializes byte for byte with the reference id`, () => {
    const task = createTask(vector.kwargs, {
      numRetries: vector.num_retries,
      replyRequested: vector.reply_requested,
      deterministicId: true,
    });
    assert.equal(task.id, vector.id);
    assert.equal(serializeTask(task), vector.serialized);
  });

  test(`vector ${index}: the serialized message round-trips`, () => {
    const task = parseTask(vector.serialized);
    assert.equal(task.id, vector.id);
    assert.deepEqual(task.kwargs, vector.kwargs);
    assert.equal(serializeTask(task), vector.serialized);
  });
}

test('a retry keeps the id and the kwargs bytes', () => {
  // 1.0 and a 64-bit integer are not representable in JS numbers: the text must survive.
  const body =
    '{"version": 1, "reply_requested": false, "kwargs": "{\\"lr\\": 1.0, \\"seed\\": 12345678901234567890}", "num_retries": 2, "id": "abc"}';
  const retried = serializeTask(withRetries(parseTask(body), 1));
  assert.equal(retried, body.replace('"num_retries": 2', '"num_retries": 1'));
});

test('version 0 messages are read', () => {
  const task = parseTask('{"version": 0, "kwargs": "{\\"cmd\\": \\"true\\"}", "num_retries": 1, "id": "x1"}');
  assert.equal(task.id, 'x1');
  assert.equal(task.replyRequested, false);
  assert.deepEqual(task.kwargs, { cmd: 'true' });
});

test('random ids when deterministic ids are off', () => {
  const a = createTask({ cmd: 'x' }, { deterministicId: false });
  const b = createTask({ cmd: 'x' }, { deterministicId: false });
  assert.match(a.id, /^[0-9a-f]{32}$/);
  assert.notEqual(a.id, b.id);
});

test('invalid messages are refused with INVALID_TASK', () => {
  const bad = [
    'not json',
    '[1, 2]',
    '{"version": 2, "reply_requested": false, "kwargs": "{}", "num_retries": 0, "id": "a"}',
    '{"version": 1, "reply_requested": false, "kwargs": "[1]", "num_retries": 0, "id": "a"}',
    '{"version": 1, "reply_requested": false, "kwargs": {}, "num_retries": 0, "id": "a"}',
    '{"version": 1, "reply_requested": false, "kwargs": "{}", "num_retries": -1, "id": "a"}',
    '{"version": 1, "reply_requested": false, "kwargs": "{}", "num_retries": 0}',
    '{"version": 1, "reply_requested": "no", "kwargs": "{}", "num_retries": 0, "id": "a"}',
  ];
  for (const body of bad) {
    assert.throws(() => parseTask(body), { code: 'INVALID_TASK' }, body);
  }
});

test('numbers are written as Python writes them', () => {
  assert.equal(pythonNumber(0.1), '0.1');
  assert.equal(pythonNumber(1e-5), '1e-05');
  assert.equal(pythonNumber(1.5e20), '1.5e+20');
  assert.equal(pythonNumber(123.25), '123.25');
  assert.equal(pythonNumber(-42), '-42');
  assert.equal(pythonDumps({ a: [1, { b: null }], c: 'é' }), '{"a": [1, {"b": null}], "c": "\\u00e9"}');
});
