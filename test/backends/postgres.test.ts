/**
 * The PostgreSQL backend on the machine's server (a database of this file's
 * own): the contract suite unchanged, then what only this backend does.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openPostgresBackend } from '../../src/backends/postgres/backend.js';
import { resolveConnection } from '../../src/backends/postgres/connection.js';
import { hasCode } from '../../src/errors.js';
import { testDatabase } from '../helpers/postgres.js';
import { backendContract } from './contract.js';

const db = await testDatabase();
after(() => db.drop());

/** A backend on this file's database, with extra URL parameters (`&schema=…`). */
function backend(parameters = '') {
  return openPostgresBackend(resolveConnection(`${db.url}?application_name=jobq-test${parameters}`, {}, 'the test'));
}

if (db.skip === undefined) {
  backendContract('postgres', async () => {
    const subject = backend();
    return { backend: subject, cleanup: () => subject.close() };
  });
}

describe('postgres backend', { skip: db.skip }, () => {
  it('writes of one turn share a statement, and a bad one fails alone', async () => {
    const subject = backend();
    try {
      const queue = subject.queue('mixed');
      // PostgreSQL text cannot hold NUL: that push is refused, the others in its turn are not.
      const results = await Promise.allSettled([queue.push(['a']), queue.push(['bad\u0000body']), queue.push(['b', 'c'])]);
      assert.deepEqual(
        results.map((result) => result.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      const failure = (results[1] as PromiseRejectedResult).reason as Error;
      assert.ok(hasCode(failure, 'BACKEND'), String(failure));
      assert.match(failure.message, /PostgreSQL queue mixed .*: push failed: .*SQLSTATE 22/);
      assert.deepEqual((await queue.peek(10)).map((message) => message.body), ['a', 'b', 'c']);
    } finally {
      await subject.close();
    }
  });
});
