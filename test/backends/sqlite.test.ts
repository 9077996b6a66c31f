import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { openSqliteBackend } from '../../src/backends/sqlite.js';
import { backendContract } from './contract.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'jobq-sqlite-'));
after(() => rm(dir, { recursive: true, force: true }));

backendContract('sqlite', async () => {
  const backend = openSqliteBackend(path.join(dir, 'contract', 'jobq.db'));
  return { backend, cleanup: () => backend.close() };
});

test('the database file is created owner-only, with its directory', async () => {
  const file = path.join(dir, 'nested', 'deeper', 'jobq.db');
  const backend = openSqliteBackend(file);
  try {
    assert.ok((await stat(path.dirname(file))).isDirectory());
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    await backend.close();
  }
});
