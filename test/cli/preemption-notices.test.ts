/**
 * Preemption notices end to end (SPEC §6.2), against loopback stand-ins for
 * each cloud's metadata service: a task that ignores SIGTERM is killed before
 * the notice's deadline, its lease is back in the queue and the worker has
 * stopped leasing before the deadline, and another worker runs the task at
 * once. Also: no metadata request at all where no platform is recognised,
 * JOBQ_SIGNAL_MAP making SIGUSR1 a preemption (brace and resume), and the
 * Kubernetes recipe (SIGTERM, then SIGKILL after the grace period).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { FakeAzureMetadata } from '../helpers/fake-azure-metadata.js';
import { FakeGceMetadata, gcePaths } from '../helpers/fake-gce-metadata.js';
import { FakeImds } from '../helpers/fake-imds.js';
import type { FakeMetadataServer } from '../helpers/fake-metadata-server.js';
import { waitFor } from '../helpers/wait.js';

interface Cloud {
  readonly name: 'aws' | 'gcp' | 'azure';
  readonly server: FakeMetadataServer;
  /** The variable that points jobq at the fake. */
  readonly variable: string;
  /** The deadline the notice carries (GCP's is always 30 s from when it is seen). */
  readonly deadlineMs: number;
  announce(deadline: Date): void;
}

const imds = new FakeImds();
const gce = new FakeGceMetadata();
const azure = new FakeAzureMetadata();
const clouds: Cloud[] = [
  { name: 'aws', server: imds, variable: 'JOBQ_AWS_IMDS_ENDPOINT', deadlineMs: 5_000, announce: (at) => imds.interrupt('terminate', at) },
  { name: 'gcp', server: gce, variable: 'JOBQ_GCP_METADATA_ENDPOINT', deadlineMs: 30_000, announce: () => gce.set(gcePaths.preempted, 'TRUE') },
  { name: 'azure', server: azure, variable: 'JOBQ_IMDS_ENDPOINT', deadlineMs: 5_000, announce: (at) => azure.preempt({ notBefore: at }) },
];

/** Kill what runs 3 s after the notice, whatever the deadline. */
const killAfterMs = 3_000;

describe('preemption notices (CLI against loopback metadata services)', () => {
  const home = tempHome();
  const env = home.env;
  before(async () => {
    await Promise.all(clouds.map((cloud) => cloud.server.start()));
  });
  after(async () => {
    await Promise.all(clouds.map((cloud) => cloud.server.stop()));
    home.cleanup();
  });

  const size = async (queue: string): Promise<number> => Number((await runCli([queue, 'size'], { env })).stdout.trim());
  const visible = async (queue: string): Promise<number> =>
    (await runCli([queue, 'peek', '-n', '10', '--json-lines'], { env })).stdout.trim().split('\n').filter(Boolean).length;

  for (const cloud of clouds) {
    it(`${cloud.name}: the stubborn task is killed and back in the queue before the deadline; another worker runs it at once`, async (t) => {
      const queue = `local/notice-${cloud.name}`;
      const marker = path.join(home.home, `${cloud.name}-ran`);
      const cmd = `if [ -f ${marker} ]; then echo second-run; exit 0; fi; touch ${marker}; trap '' TERM; echo ready; sleep 600`;
      await runCli([queue, 'push', '-c', cmd, '-c', 'echo never-here'], { env });
      const noticeEnv = {
        ...env,
        JOBQ_PREEMPTION_NOTICES: cloud.name,
        [cloud.variable]: cloud.server.url,
        JOBQ_PREEMPTION_MARGIN: `${(cloud.deadlineMs - killAfterMs) / 1000}s`,
        JOBQ_KILL_TIMEOUT: '600',
        JOBQ_PREEMPTION_TIMEOUT: '600',
      };
      const doomed = startCli([queue, 'worker'], { env: noticeEnv });
      t.after(async () => {
        doomed.signal('SIGKILL');
        await doomed.exited;
      });
      await doomed.waitForOutput(/^ready$/m);
      const deadline = Date.now() + cloud.deadlineMs;
      cloud.announce(new Date(deadline));
      await doomed.waitForOutput(/preemption notice/);
      await waitFor(async () => (await visible(queue)) === 2, {
        timeoutMs: cloud.deadlineMs,
        message: () => `the task was not released:\n${doomed.output}`,
      });
      assert.ok(Date.now() < deadline, `released ${Date.now() - deadline} ms after the deadline`);
      assert.doesNotMatch(doomed.output, /never-here/, 'no new task after the notice');
      assert.equal(doomed.child.exitCode, null, 'the worker braces: the machine is about to go');
      // Another machine's worker takes it at once: no visibility timeout to wait out.
      const rescuer = await runCli([queue, 'worker'], { env });
      assert.equal(rescuer.code, 0, rescuer.stderr);
      assert.match(rescuer.stdout, /^second-run$/m);
      assert.equal(await size(queue), 0);
    });
  }

  it('no platform recognised: a worker makes no metadata request at all', async () => {
    const before = clouds.map((cloud) => cloud.server.requests);
    await runCli(['local/unnoticed', 'push', '-c', 'echo done'], { env });
    const worker = await runCli(['local/unnoticed', 'worker'], {
      env: { ...env, ...Object.fromEntries(clouds.map((cloud) => [cloud.variable, cloud.server.url])) },
    });
    assert.equal(worker.code, 0, worker.stderr);
    assert.deepEqual(
      clouds.map((cloud) => cloud.server.requests),
      before,
      'not one request to any of the endpoints',
    );
  });

  it('JOBQ_SIGNAL_MAP=USR1=preempt: SIGUSR1 braces for preemption like SIGTERM, then resumes', async () => {
    const marker = path.join(home.home, 'usr1-once');
    const cmd = `if [ -f ${marker} ]; then echo second-run; exit 0; fi; touch ${marker}; trap 'echo heard-term; exit 0' TERM; echo ready; sleep 30 & wait`;
    await runCli(['local/mapped', 'push', '-c', cmd], { env });
    const worker = startCli(['local/mapped', 'worker'], { env: { ...env, JOBQ_SIGNAL_MAP: 'USR1=preempt', JOBQ_PREEMPTION_TIMEOUT: '2' } });
    await worker.waitForOutput(/^ready$/m);
    worker.signal('SIGUSR1');
    const exit = await worker.exited;
    assert.equal(exit.code, 0, worker.output);
    assert.match(worker.output, /received SIGUSR1 \(preempt\)[\s\S]*bracing for preemption[\s\S]*resuming work[\s\S]*^second-run$/m);
    assert.equal(worker.count(/^heard-term$/gm), 1);
  });

  it('the Kubernetes recipe: SIGTERM, then SIGKILL after a 5 s grace period: the task checkpointed and is back in the queue', async () => {
    // As the README's Job: SIGTERM means interrupt, and the kill timeout is under the grace period.
    const recipe = { ...env, JOBQ_SIGNAL_MAP: 'TERM=interrupt', JOBQ_KILL_TIMEOUT: '3s' };
    const checkpoints = "trap 'echo checkpointing; sleep 1; echo checkpointed; exit 0' TERM; echo ready; sleep 600 & wait";
    const stubborn = "trap '' TERM; echo ready; sleep 600";
    await runCli(['local/pod', 'push', '-c', checkpoints, '-c', stubborn], { env });
    const worker = startCli(['local/pod', 'worker', '-n', '2'], { env: recipe });
    await waitFor(() => worker.count(/^ready$/gm) === 2, { message: () => worker.output });
    worker.signal('SIGTERM');
    const graceEnds = Date.now() + 5_000;
    const exited = await Promise.race([worker.exited, waitFor(() => Date.now() >= graceEnds, { intervalMs: 100 })]);
    if (exited === undefined) worker.signal('SIGKILL'); // the kubelet's SIGKILL at the end of the grace period
    const exit = await worker.exited;
    assert.equal(exit.code, 130, `the worker was gone before the grace period ended: ${worker.output}`);
    assert.match(worker.stdout, /^checkpointed$/m);
    assert.equal(await visible('local/pod'), 2, 'both tasks are back and visible: the stubborn one was killed and released');
  });
});
