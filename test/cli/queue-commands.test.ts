import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, tempHome } from '../helpers/cli.js';

describe('queue commands (CLI)', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());
  const jobq = (...args: string[]) => runCli(args, { env });

  it('peek shows tasks in order without leasing them, as text or JSON lines', async () => {
    assert.equal((await jobq('local/peeked', 'push', '-c', 'echo 1', '-c', 'echo 2', '-c', 'echo 3', '--num-retries', '2')).code, 0);
    const text = await jobq('local/peeked', 'peek', '-n', '2');
    assert.equal(text.code, 0);
    const lines = text.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^[0-9a-f]{32} {2}retries=2 {2}\{"cmd": "echo 1", "bg_dirsync_to": null, "env": \{\}\}$/);
    const json = (await jobq('local/peeked', 'peek', '--json-lines', '-n', '10')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { kwargs: { cmd: string }; num_retries: number });
    assert.deepEqual(json.map((t) => t.kwargs.cmd), ['echo 1', 'echo 2', 'echo 3']);
    assert.ok(json.every((t) => t.num_retries === 2));
    assert.equal((await jobq('local/peeked', 'size')).stdout.trim(), '3', 'peek leased nothing');
  });

  it('clear without a terminal clears at once, as the reference does; --yes is still accepted', async () => {
    await jobq('local/cleared', 'push', '-c', 'true', '-c', 'false');
    const cleared = await jobq('local/cleared', 'clear');
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal((await jobq('local/cleared', 'size')).stdout.trim(), '0');
    await jobq('local/cleared', 'push', '-c', 'true');
    assert.equal((await jobq('local/cleared', 'clear', '--yes')).code, 0);
    assert.equal((await jobq('local/cleared', 'size')).stdout.trim(), '0');
  });

  it('pull runs one task; on an empty queue it says so and exits 0; a failed task exits 1', async () => {
    await jobq('local/pulled', 'push', '-c', 'echo pulled-one', '-c', 'exit 3');
    const first = await jobq('local/pulled', 'pull');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /pulled-one/);
    assert.equal((await jobq('local/pulled', 'size')).stdout.trim(), '1');
    const second = await jobq('local/pulled', 'pull');
    assert.equal(second.code, 1);
    assert.match(second.stderr, /exit code 3/);
    const empty = await jobq('local/pulled', 'pull');
    assert.equal(empty.code, 0);
    assert.match(empty.stdout, /the queue is empty/);
  });

  it('dlq requeue gives tasks new retries; dlq purge empties the dead-letter queue', async () => {
    await jobq('local/purged', 'push', '-c', 'exit 9', '-c', 'exit 8');
    await jobq('local/purged', 'worker', '--max-consecutive-failures', '5');
    const listed = (await jobq('local/purged', 'dlq', 'list')).stdout;
    assert.match(listed, /exit code 9/);
    assert.match(listed, /exit code 8/);
    assert.equal((await jobq('local/purged', 'dlq', 'requeue', '-n', '1', '--num-retries', '4')).code, 0);
    const requeued = JSON.parse((await jobq('local/purged', 'peek', '--json-lines')).stdout) as { num_retries: number };
    assert.equal(requeued.num_retries, 4);
    assert.equal((await jobq('local/purged', 'dlq', 'list', '--json')).stdout.trim().split('\n').length, 1);
    assert.equal((await jobq('local/purged', 'dlq', 'purge')).code, 2, 'purge asks for --yes off a terminal');
    assert.equal((await jobq('local/purged', 'dlq', 'purge', '--yes')).code, 0);
    assert.equal((await jobq('local/purged', 'dlq', 'list', '--json')).stdout.trim(), '');
    assert.equal((await jobq('local/purged', 'size')).stdout.trim(), '1', 'the requeued task is untouched');
  });

  it('JOBQ_QUEUE names the queue when no spec is given; -e adds environment variables', async () => {
    const withQueue = { ...env, JOBQ_QUEUE: 'local/fromenv' };
    assert.equal((await runCli(['push', '-e', 'GREETING=hi there', '-c', 'echo "$GREETING from $JOBQ_QUEUE_NAME"'], { env: withQueue })).code, 0);
    const worker = await runCli(['worker'], { env: withQueue });
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /hi there from fromenv/);
  });

  it('--log-format json writes one JSON object a line with task events', async () => {
    await jobq('local/jsonlogs', 'push', '-c', 'echo structured');
    const worker = await jobq('local/jsonlogs', 'worker', '--log-format', 'json');
    type Event = { event?: string; msg: string; host?: string; pid?: number; worker_id?: string; queue?: string } & Record<string, unknown>;
    const events = worker.stderr.trim().split('\n').map((line) => JSON.parse(line) as Event);
    const names = events.map((e) => e.event);
    assert.ok(names.includes('task_start') && names.includes('task_success'), names.join(','));
    for (const event of events) {
      assert.equal(event.queue, 'jsonlogs', `every line names the queue: ${JSON.stringify(event)}`);
      assert.equal(typeof event.host, 'string');
      assert.equal(typeof event.pid, 'number');
      assert.match(event.worker_id ?? '', /-\d+-[0-9a-f]{4}$/);
    }
    const success = events.find((e) => e.event === 'task_success');
    assert.equal(success?.['command'], 'echo structured');
    assert.equal(success?.['kind'], 'shell');
    assert.equal(success?.['exit_code'], 0);
    assert.equal(typeof success?.['duration_s'], 'number');
    assert.equal(worker.stdout, 'structured\n', 'the task\'s output on stdout, not in the log');
  });
});
