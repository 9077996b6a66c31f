/**
 * Every push path writes the bytes the reference writes, hence the same ids:
 * test/fixtures/vectors/push.json holds, for each path (-c, --command, -e,
 * --env, --num-retries, --bg-dirsync-to, stdin lines, stdin with -e, JSON
 * lines, and mixes), the messages the reference's own code enqueues for the
 * same arguments and stdin (see the fixture's README). Each case is pushed
 * with the CLI to local/ and to Azurite, and the stored bodies compared byte
 * for byte.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { QueueClient } from '@azure/storage-queue';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../helpers/azurite.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { queueBodies } from '../helpers/local-store.js';
import { fixturesDir } from '../helpers/paths.js';

interface PushVector {
  name: string;
  args: string[];
  stdin?: string;
  messages: Array<{ id: string; serialized: string }>;
}

const vectors = JSON.parse(readFileSync(path.join(fixturesDir, 'vectors', 'push.json'), 'utf8')) as PushVector[];
const azurite = await startAzurite();
after(() => azurite.stop());

/** Every push path the issue names has a vector. */
function pathsCovered(): Set<string> {
  const covered = new Set<string>();
  for (const vector of vectors) {
    for (const arg of vector.args) if (arg.startsWith('-')) covered.add(arg);
    if (vector.stdin !== undefined) covered.add(vector.stdin.split('\n').some((line) => line.startsWith('{')) ? 'json lines' : 'stdin lines');
    if (vector.stdin !== undefined && vector.args.includes('-e')) covered.add('stdin with -e');
  }
  return covered;
}

describe('push writes what the reference writes, on every path (CLI)', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('has a vector for each push path', () => {
    const covered = pathsCovered();
    for (const name of ['-c', '--command', '-e', '--env', '--num-retries', '--bg-dirsync-to', 'stdin lines', 'json lines', 'stdin with -e']) {
      assert.ok(covered.has(name), `no vector for ${name}`);
    }
  });

  for (const [index, vector] of vectors.entries()) {
    it(`${vector.name}: local/ stores the reference's bytes`, async () => {
      const queue = `vector-local-${index}`;
      const push = await runCli([`local/${queue}`, 'push', ...vector.args], { env: home.env, input: vector.stdin ?? '' });
      assert.equal(push.code, 0, push.stderr);
      assert.deepEqual(queueBodies(home.home, queue), vector.messages.map((message) => message.serialized));
    });

    it(`${vector.name}: Azure stores the reference's bytes`, async () => {
      const queue = `vector-azure-${index}`;
      const env = { ...home.env, JOBQ_CONNECTION_STRING: azurite.connectionString };
      const push = await runCli([`devstoreaccount1/${queue}`, 'push', '--num-workers', '1', ...vector.args], { env, input: vector.stdin ?? '' });
      assert.equal(push.code, 0, push.stderr);
      const peeked = await new QueueClient(azurite.connectionString, queue).peekMessages({ numberOfMessages: 32 });
      assert.deepEqual(
        peeked.peekedMessageItems.map((message) => message.messageText),
        vector.messages.map((message) => message.serialized),
      );
    });
  }
});
