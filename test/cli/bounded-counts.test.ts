/**
 * Counts and durations a user gives are bounded: an absurd one is a usage
 * error that names the bound (exit 2) at once, never minutes of allocation
 * and an out-of-memory crash, nor a message with a meaningless number.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assertOneErrorLine, runCli, startCli, tempHome, type BadInputCase, type CliResult } from '../helpers/cli.js';
import { snapshotMessages } from '../helpers/local-store.js';

/** Long enough for a loaded machine to start the CLI; far shorter than an out-of-memory crash takes. */
const ANSWER_WITHIN_MS = 60_000;

describe('absurd counts and durations: one line naming the bound, exit 2, nothing changed', () => {
  const home = tempHome();
  after(() => home.cleanup());
  before(async () => {
    assert.equal((await runCli(['local/bounds', 'push', '-c', 'true'], { env: home.env })).code, 0);
  });

  const cases: BadInputCase[] = [
    { name: 'a billion worker slots', args: ['local/bounds', 'worker', '-n', '1000000000'], pattern: /--num-workers.*less than or equal to 4096/ },
    { name: 'one worker slot more than the bound', args: ['local/bounds', 'worker', '-n', '4097'], pattern: /--num-workers.*less than or equal to 4096/ },
    {
      name: 'a huge --max-consecutive-failures',
      args: ['local/bounds', 'worker', '--max-consecutive-failures', '99999999999999999999'],
      pattern: /--max-consecutive-failures.*less than or equal to 1000000/,
    },
    { name: 'a huge --max-deliveries', args: ['local/bounds', 'pull', '--max-deliveries', '1000001'], pattern: /--max-deliveries.*less than or equal to 1000000/ },
    { name: 'a huge peek -n', args: ['local/bounds', 'peek', '-n', '1000000000'], pattern: /--number.*less than or equal to 1000/ },
    { name: 'a huge dlq list -n', args: ['local/bounds', 'dlq', 'list', '-n', '1001'], pattern: /--number.*less than or equal to 1000/ },
    {
      name: 'a huge dlq requeue --num-retries',
      args: ['local/bounds', 'dlq', 'requeue', '--num-retries', '1000001'],
      pattern: /--num-retries.*less than or equal to 1000000/,
    },
    { name: 'a huge downscale --nodes', args: ['local/bounds', 'downscale', '--nodes', '1000000000'], pattern: /--nodes.*less than or equal to 10000/ },
    { name: 'a huge bench --concurrency', args: ['bench', '--concurrency', '1,1000000000'], pattern: /"1000000000" is not a worker count .* from 1 to 4096/ },
    { name: 'a huge bench --tasks', args: ['bench', '--tasks', '1000000000'], pattern: /--tasks.*less than or equal to 1000000/ },
    {
      name: 'a visibility timeout of 999999999999 weeks',
      args: ['local/bounds', 'worker', '--visibility-timeout', '999999999999w'],
      pattern: /invalid --visibility-timeout "999999999999w": must be at most 1w\b/,
    },
    { name: 'a lease longer than Azure allows', args: ['local/bounds', 'pull', '--visibility-timeout', '8d'], pattern: /invalid --visibility-timeout "8d": must be at most 1w\b/ },
    { name: 'a time limit no timer can hold', args: ['local/bounds', 'worker', '--time-limit', '25d'], pattern: /invalid --time-limit "25d": must be at most 24d\b/ },
    { name: 'a kill timeout no timer can hold', args: ['local/bounds', 'worker'], env: { JOBQ_KILL_TIMEOUT: '30d' }, pattern: /invalid JOBQ_KILL_TIMEOUT "30d": must be at most 24d\b/ },
    { name: 'a --ttl past any date', args: ['local/bounds', 'downscale', '--ttl', '999999999999w'], pattern: /invalid --ttl "999999999999w": must be at most 365d\b/ },
  ];

  for (const testCase of cases) {
    it(`rejects ${testCase.name}`, async () => {
      const before = snapshotMessages(home.home);
      const result = await answered(testCase, home.env);
      assertOneErrorLine(result, 2, testCase.pattern);
      assert.equal(snapshotMessages(home.home), before, 'the queue is unchanged');
    });
  }
});

/** The CLI's answer to a case; one that does not answer in time is killed and fails the test. */
async function answered(testCase: BadInputCase, env: NodeJS.ProcessEnv): Promise<CliResult> {
  const cli = startCli(testCase.args, { env: { ...env, ...testCase.env } });
  const result = await cli.exitedWithin(ANSWER_WITHIN_MS, () => `no answer within ${ANSWER_WITHIN_MS} ms: ${cli.output.slice(-500)}`);
  return result;
}
