/**
 * The worker hears Azure scheduled events (through the CLI, against the
 * stand-in for the metadata service in test/helpers/fake-azure-metadata.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { FakeAzureMetadata } from '../helpers/fake-azure-metadata.js';

describe('Azure scheduled events (CLI against a local metadata endpoint)', () => {
  const home = tempHome();
  const metadata = new FakeAzureMetadata();
  let env: NodeJS.ProcessEnv = {};
  before(async () => {
    env = { ...home.env, JOBQ_PREEMPTION_NOTICES: 'azure', JOBQ_IMDS_ENDPOINT: await metadata.start() };
  });
  after(async () => {
    await metadata.stop();
    home.cleanup();
  });

  it('a Preempt event stops and releases the running task; its disappearance resumes work', async () => {
    const marker = path.join(home.home, 'preempted');
    const cmd = `if [ -f ${marker} ]; then echo second-run; exit 0; fi; touch ${marker}; trap 'echo heard-term; exit 0' TERM; echo ready; sleep 1301 & wait`;
    await runCli(['local/evicted', 'push', '-c', cmd], { env: home.env });
    const worker = startCli(['local/evicted', 'worker'], { env });
    await worker.waitForOutput(/^ready$/m);
    metadata.preempt();
    await worker.waitForOutput(/^heard-term$/m);
    await worker.waitForOutput(/goes back to the queue/);
    assert.equal((await runCli(['local/evicted', 'size'], { env: home.env })).stdout.trim(), '1');
    assert.doesNotMatch(worker.output, /^second-run$/m, 'no new task while the preemption is announced');
    metadata.withdraw();
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.stdout, /^second-run$/m);
    assert.equal(worker.count(/^heard-term$/gm), 1);
    assert.equal((await runCli(['local/evicted', 'size'], { env: home.env })).stdout.trim(), '0');
  });

  it('with JOBQ_DISABLE_SCHEDULED_EVENTS=1 the event is logged and nothing is stopped', async () => {
    const go = path.join(home.home, 'go');
    const cmd = `trap 'echo heard-term; exit 0' TERM; echo ready; while [ ! -f ${go} ]; do sleep 0.1; done; echo finished`;
    await runCli(['local/ignored', 'push', '-c', cmd], { env: home.env });
    const worker = startCli(['local/ignored', 'worker'], {
      env: { ...env, JOBQ_DISABLE_SCHEDULED_EVENTS: '1' },
    });
    await worker.waitForOutput(/^ready$/m);
    metadata.preempt();
    await worker.waitForOutput(/not acting on it/);
    await runCli(['local/ignored', 'push', '-c', 'true'], { env: home.env }); // something to notice
    writeFileSync(go, '');
    const exit = await worker.exited;
    metadata.withdraw();
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.stdout, /^finished$/m);
    assert.doesNotMatch(worker.stdout, /heard-term/);
    assert.equal((await runCli(['local/ignored', 'size'], { env: home.env })).stdout.trim(), '0');
  });

  it('a bad notice setting is a usage error naming the variable', async () => {
    const result = await runCli(['local/evicted', 'worker'], { env: { ...env, JOBQ_PREEMPTION_NOTICES: 'azure,oracle' } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /invalid JOBQ_PREEMPTION_NOTICES "azure,oracle"/);
  });
});
