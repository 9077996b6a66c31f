/**
 * How a PostgreSQL queue's connection is resolved from specs, URLs and the
 * environment (no server needed): libpq's precedence, jobq's own order of
 * sources, and bad input as usage errors that never repeat a URL.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, it } from 'node:test';
import { resolveConnection } from '../../src/backends/postgres/connection.js';
import { parseSpec, postgresConnection, type QueueTarget } from '../../src/backends/spec.js';
import { hasCode } from '../../src/errors.js';

function connectionOf(target: QueueTarget) {
  assert.equal(target.kind, 'postgres');
  return target.kind === 'postgres' ? target.connection : assert.fail('not postgres');
}

function usageErrorWithout(secret: string, pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(hasCode(err, 'USAGE'), String(err));
    assert.match((err as Error).message, pattern);
    assert.ok(!(err as Error).message.includes(secret), (err as Error).message);
    return true;
  };
}

describe('PostgreSQL connection settings', () => {
  it('a URL wins over the PG* variables, which fill in what it leaves out', () => {
    const env = { PGHOST: 'envhost', PGPORT: '6000', PGUSER: 'envuser', PGPASSWORD: 'envpw', PGDATABASE: 'envdb', PGSSLMODE: 'require', PGAPPNAME: 'envapp' };
    const given = resolveConnection('postgres://urluser@urlhost/urldb', env, 'test');
    assert.deepEqual(
      [given.host, given.port, given.user, given.database, given.password, given.sslMode, given.applicationName],
      ['urlhost', 6000, 'urluser', 'urldb', 'envpw', 'require', 'envapp'],
    );
    const full = resolveConnection('postgresql://u:p%40ss@h:5433/d?sslmode=disable&application_name=mine&connect_timeout=3', env, 'test');
    assert.deepEqual(
      [full.host, full.port, full.user, full.database, full.password, full.sslMode, full.applicationName, full.connectTimeoutMs],
      ['h', 5433, 'u', 'd', 'p@ss', 'disable', 'mine', 3000],
    );
  });

  it("without a URL: the PG* variables, then libpq's defaults", () => {
    const none = resolveConnection(undefined, {}, 'test');
    const user = os.userInfo().username;
    assert.deepEqual(
      [none.host, none.port, none.user, none.database, none.password, none.sslMode, none.connectTimeoutMs, none.schema],
      ['localhost', 5432, user, user, undefined, 'prefer', 10_000, 'jobq'],
    );
    const socket = resolveConnection('postgres:///jobs?host=/var/run/postgresql', {}, 'test');
    assert.equal(socket.host, '/var/run/postgresql');
    assert.ok(socket.isSocket);
    assert.equal(socket.url, `postgres://${encodeURIComponent(user)}@%2Fvar%2Frun%2Fpostgresql:5432/jobs`);
    const ipv6 = resolveConnection('postgres://u@[::1]:5432/d', {}, 'test');
    assert.equal(ipv6.host, '::1');
    assert.equal(ipv6.url, 'postgres://u@[::1]:5432/d');
  });

  it('pg/NAME takes --db-url, else JOBQ_DATABASE_URL, else DATABASE_URL, else the PG* variables', () => {
    const env = {
      JOBQ_DATABASE_URL: 'postgres://a@jobq-url/db',
      DATABASE_URL: 'postgres://a@database-url/db',
      PGHOST: 'pg-variables',
    };
    assert.equal(connectionOf(parseSpec('pg/qname', { env, databaseUrl: 'postgres://a@flag/db' })).host, 'flag');
    assert.equal(connectionOf(parseSpec('pg/qname', { env })).host, 'jobq-url');
    assert.equal(connectionOf(parseSpec('pg/qname', { env: { ...env, JOBQ_DATABASE_URL: '' } })).host, 'database-url');
    assert.equal(postgresConnection({ env: { PGHOST: 'pg-variables' } }).host, 'pg-variables');
    assert.equal(postgresConnection({ env: { PGHOST: 'pg-variables' } }).source, 'the PG* variables');
    // A connection string for Azure does not turn a pg/ spec into an Azure queue.
    assert.equal(parseSpec('pg/qname', { env, connectionString: 'UseDevelopmentStorage=true' }).kind, 'postgres');
  });

  it('a postgres:// spec names the database and, last, the queue', () => {
    const target = parseSpec('postgres://worker@db.example.org:6543/jobs/nightly-runs?sslmode=verify-full&schema=team_a', { env: {} });
    assert.equal(target.name, 'nightly-runs');
    const connection = connectionOf(target);
    assert.deepEqual(
      [connection.host, connection.port, connection.user, connection.database, connection.sslMode, connection.schema],
      ['db.example.org', 6543, 'worker', 'jobs', 'verify-full', 'team_a'],
    );
    assert.equal(connectionOf(parseSpec('postgres://w@h/jobs/qname', { env: { PGPASSWORD: 'from-env' } })).password, 'from-env');
  });

  it('bad specs and settings are usage errors that never repeat the URL', () => {
    const secret = 'pw-0f-spec';
    assert.throws(() => parseSpec(`postgres://u:${secret}@h/db/qname`, { env: {} }), usageErrorWithout(secret, /must not hold a password/));
    assert.throws(() => parseSpec(`postgres://u@h/db/qname?password=${secret}`, { env: {} }), usageErrorWithout(secret, /must not hold a password/));
    assert.throws(() => parseSpec('postgres://u@h/qname', { env: {} }), usageErrorWithout(secret, /DATABASE\/QUEUE/));
    assert.throws(() => parseSpec('postgres://u@h/a/b/qname', { env: {} }), usageErrorWithout(secret, /DATABASE\/QUEUE/));
    assert.throws(() => parseSpec('pg/Bad_Name', { env: {} }), usageErrorWithout(secret, /invalid queue name/));
    const env = (url: string) => ({ JOBQ_DATABASE_URL: url });
    assert.throws(() => parseSpec('pg/qname', { env: env(`mysql://u:${secret}@h/d`) }), usageErrorWithout(secret, /from JOBQ_DATABASE_URL\): the scheme is not postgres/));
    assert.throws(() => parseSpec('pg/qname', { env: env(`postgres://u:${secret}@h:99999/d`) }), usageErrorWithout(secret, /not a URL|invalid port/));
    assert.throws(() => parseSpec('pg/qname', { env: env(`postgres://u:${secret}@h/d?sslmode=maybe`) }), usageErrorWithout(secret, /invalid sslmode "maybe"/));
    assert.throws(() => parseSpec('pg/qname', { env: env(`postgres://u:${secret}@h/d?connect_timeout=soon`) }), usageErrorWithout(secret, /invalid connect_timeout/));
    assert.throws(() => parseSpec('pg/qname', { env: { JOBQ_PG_SCHEMA: 'x-y' } }), usageErrorWithout(secret, /invalid PostgreSQL schema "x-y"/));
  });

  it('masks the password wherever it would show', () => {
    const connection = resolveConnection('postgres://u:hunter2hunter2@h/d', {}, 'test');
    assert.equal(connection.redact('failed for hunter2hunter2 at h'), 'failed for *** at h');
    assert.equal(connection.url, 'postgres://u@h:5432/d');
    assert.equal(JSON.stringify({ connection }), '{"connection":"postgres://u@h:5432/d?schema=jobq"}');
  });
});
