import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import hash, { type TaskContext } from '../src/hash.js';
import taskTypes from '../src/task-types.js';

function context(signal = new AbortController().signal): TaskContext & { lines: string[] } {
  const lines: string[] = [];
  return { signal, taskId: 'test', lines, log: (...args) => lines.push(args.join(' ')) };
}

describe('the hash task', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobq-plugin-hash-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes a file with sha256 by default and logs one sha256sum-like line', async () => {
    const file = path.join(dir, 'small.txt');
    writeFileSync(file, 'hello\n');
    const ctx = context();
    const result = await hash({ path: file }, ctx);
    const digest = createHash('sha256').update('hello\n').digest('hex');
    assert.deepEqual(result, { path: file, algorithm: 'sha256', digest, bytes: 6 });
    assert.deepEqual(ctx.lines, [`sha256 ${digest}  ${file}`]);
  });

  it('streams a file of many chunks with each algorithm', async () => {
    const file = path.join(dir, 'big.bin');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(file, content);
    for (const algorithm of ['sha1', 'md5', 'sha512', 'sha256'] as const) {
      const result = await hash({ path: file, algorithm }, context());
      assert.equal(result.digest, createHash(algorithm).update(content).digest('hex'), algorithm);
      assert.equal(result.bytes, content.length);
    }
  });

  it('hashes an empty file', async () => {
    const file = path.join(dir, 'empty');
    writeFileSync(file, '');
    const result = await hash({ path: file, algorithm: 'md5' }, context());
    assert.equal(result.digest, 'd41d8cd98f00b204e9800998ecf8427e');
    assert.equal(result.bytes, 0);
  });

  it('takes the kwargs `jobq push` adds to every JSON line (env, bg_dirsync_to), as ai4s-jobq\'s push does', async () => {
    const file = path.join(dir, 'pushed');
    writeFileSync(file, 'x');
    const result = await hash({ path: file, env: {}, bg_dirsync_to: null }, context());
    assert.equal(result.digest, createHash('sha256').update('x').digest('hex'));
  });

  it('fails with a clear message for a missing file or a directory', async () => {
    const missing = path.join(dir, 'nope.txt');
    await assert.rejects(hash({ path: missing }, context()), { message: `hash: cannot read ${missing}: no such file` });
    await assert.rejects(hash({ path: dir }, context()), { message: `hash: cannot read ${dir}: is a directory` });
  });

  it('refuses bad kwargs before reading anything', async () => {
    await assert.rejects(hash({}, context()), { name: 'TypeError', message: /"path" must be a non-empty string/ });
    await assert.rejects(hash({ path: 'x', algorithm: 'crc32' }, context()), { message: /"algorithm" must be one of sha256, sha1, md5, sha512/ });
    await assert.rejects(hash({ path: 'x', algo: 'md5' }, context()), { message: /unknown kwargs "algo"/ });
  });

  it('stops reading and throws an AbortError when the signal fires', async () => {
    // /dev/zero never ends: only the abort can end this task.
    const controller = new AbortController();
    const ctx = context(controller.signal);
    const running = hash({ path: '/dev/zero' }, ctx);
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(running, { name: 'AbortError' });
    assert.deepEqual(ctx.lines, []);
  });

  it('throws an AbortError at once when the task is already stopped', async () => {
    await assert.rejects(hash({ path: '/dev/zero' }, context(AbortSignal.abort())), { name: 'AbortError' });
  });
});

describe('the jobq:task-types hook', () => {
  it('defines `hash` as a function task type whose module is the compiled hash.js', async () => {
    const [definition, ...rest] = await taskTypes();
    assert.equal(rest.length, 0);
    assert.equal(definition?.name, 'hash');
    const modulePath = fileURLToPath(definition?.module ?? '');
    assert.equal(path.basename(modulePath), 'hash.js');
    const loaded = (await import(definition?.module ?? '')) as { default: unknown };
    assert.equal(loaded.default, hash);
  });
});
