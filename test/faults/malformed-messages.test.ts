/**
 * Malformed messages in the queue, of every kind, put there straight (SQLite
 * rows, Azure messages sent with the SDK) as another program might: each ends
 * in NAME-failed with its reason and its body, the worker says so in one line
 * and goes on with the tasks around them, and none counts as a failure.
 *
 * Bytes that are not UTF-8 are tested on SQLite only (stored as a BLOB):
 * Azure Storage Queue messages are XML text, and PostgreSQL text is valid
 * UTF-8 by construction, so neither can carry them.
 * "Oversized" is the largest body each backend holds in a test: 8 MiB on
 * SQLite and PostgreSQL (no limit), 64 KiB on Azure (its limit), where the
 * body is cut so that the dead-letter record keeps the reason.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import type { DeadLetterRecord } from '../../src/queue/job-queue.js';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { insertRawMessages } from '../helpers/local-store.js';
import { testDatabase } from '../helpers/postgres.js';

const azurite = await startAzurite();
after(() => azurite.stop());
const db = await testDatabase();
after(() => db.drop());

/** A version 1 message with some fields replaced (values as JSON text). */
function message(fields: Record<string, string>): string {
  const all = { version: '1', reply_requested: 'false', kwargs: JSON.stringify('{"cmd": "true"}'), num_retries: '0', id: '"abc"', ...fields };
  return `{${Object.entries(all).map(([key, value]) => `"${key}": ${value}`).join(', ')}}`;
}

interface Malformed {
  readonly body: string | Buffer;
  readonly reason: string;
}

const common: Malformed[] = [
  { body: 'not json at all', reason: 'message body is not JSON' },
  { body: '[1, 2]', reason: 'message body is not a JSON object' },
  { body: '{"version": 1, "kwargs": "{}", "num_retries": 0, "id": "x"}', reason: 'missing field "reply_requested"' },
  { body: message({ reply_requested: '"no"' }), reason: 'reply_requested must be a boolean' },
  { body: message({ num_retries: '-1' }), reason: 'num_retries must be a non-negative integer, got -1' },
  { body: message({ id: '""' }), reason: 'id must be a non-empty string' },
  { body: message({ version: '2' }), reason: 'unknown task version 2' },
  { body: message({ version: '"1"' }), reason: 'unknown task version "1"' },
  { body: message({ kwargs: JSON.stringify('[1, 2]') }), reason: 'kwargs must be a JSON object' },
  { body: message({ kwargs: JSON.stringify('"echo hi"') }), reason: 'kwargs must be a JSON object' },
  { body: message({ kwargs: '{"cmd": "true"}' }), reason: 'kwargs must be a JSON string' },
  { body: message({ kwargs: JSON.stringify('{not json') }), reason: 'kwargs is not valid JSON' },
];

const backends = [
  {
    label: 'local',
    prefix: 'local',
    extraEnv: {},
    malformed: [
      ...common,
      { body: 'x'.repeat(8 * 2 ** 20), reason: 'message body is not JSON' },
      { body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), reason: 'message body is not valid UTF-8' },
    ],
    plant: async (home: string, queue: string, bodies: ReadonlyArray<string | Buffer>) => insertRawMessages(home, queue, bodies),
    skip: undefined,
  },
  {
    label: 'Azurite',
    prefix: 'devstoreaccount1',
    extraEnv: { JOBQ_CONNECTION_STRING: azurite.connectionString },
    malformed: [...common, { body: 'x'.repeat(64 * 1024), reason: 'message body is not JSON' }],
    plant: async (_home: string, queue: string, bodies: ReadonlyArray<string | Buffer>) => {
      const client = new QueueClient(azurite.connectionString, queue);
      for (const body of bodies) await client.sendMessage(body.toString(), { messageTimeToLive: -1 });
    },
    skip: undefined,
  },
  {
    label: 'PostgreSQL',
    prefix: 'pg',
    extraEnv: { JOBQ_DATABASE_URL: db.url },
    malformed: [...common, { body: 'x'.repeat(8 * 2 ** 20), reason: 'message body is not JSON' }],
    plant: async (_home: string, queue: string, bodies: ReadonlyArray<string | Buffer>) => {
      // One at a time, in order, as another program's inserts would come.
      for (const body of bodies) await db.query('INSERT INTO jobq.messages (queue, body) VALUES ($1, $2)', [queue, body.toString()]);
    },
    skip: db.skip,
  },
];

for (const backend of backends) {
  describe(`malformed messages on ${backend.label} (CLI)`, { skip: backend.skip }, () => {
    const home = tempHome();
    after(() => home.cleanup());
    const env = { ...home.env, ...backend.extraEnv };
    const spec = `${backend.prefix}/malformed`;

    it('each is dead-lettered with its reason and body; the tasks around them run; none is a failure', async () => {
      assert.equal((await runCli([spec, 'push', '-c', 'echo task-before'], { env })).code, 0);
      await backend.plant(home.home, 'malformed', backend.malformed.map((entry) => entry.body));
      assert.equal((await runCli([spec, 'push', '-c', 'echo task-after'], { env })).code, 0);

      const worker = await runCli([spec, 'worker', '--max-consecutive-failures', '0'], { env });
      assert.equal(worker.code, 0, worker.stderr.slice(0, 4000));
      assert.match(worker.stderr, /task-before/);
      assert.match(worker.stderr, /task-after/);
      const invalidLines = worker.stderr.split('\n').filter((line) => /invalid message/.test(line));
      assert.equal(invalidLines.length, backend.malformed.length, 'one line for each');
      for (const line of invalidLines) assert.match(line, /invalid message \S+: .+; moved to malformed-failed$/);
      assert.match(worker.stderr, /2 succeeded, 0 failed/);
      assert.equal((await runCli([spec, 'size'], { env })).stdout.trim(), '0');

      const list = await runCli([spec, 'dlq', 'list', '--json', '-n', '100'], { env });
      assert.equal(list.code, 0, list.stderr);
      const records = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as DeadLetterRecord);
      assert.equal(records.length, backend.malformed.length, 'all of them, and only them');
      for (const entry of backend.malformed) {
        const stored = entry.body.toString();
        const record = records.find((candidate) =>
          candidate.task_truncated === true ? stored.startsWith(candidate.task) : candidate.task === stored,
        );
        assert.ok(record, `a record for ${stored.slice(0, 80)}`);
        assert.equal(record.error, `invalid task: ${entry.reason}`);
        assert.equal(record.task_id, null);
      }
    });
  });
}
