import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runCli, startCli, tempHome } from '../helpers/cli.js';

/**
 * A stand-in for the Azure instance metadata service (the one remote service
 * that cannot run here): it speaks the documented scheduled-events protocol
 * over HTTP, and the test adds and removes a Preempt event.
 */
class MetadataServer {
  private incarnation = 1;
  private events: object[] = [];
  requests = 0;
  private readonly server: Server = createServer((request, response) => {
    this.requests += 1;
    const wellFormed =
      request.headers['metadata'] === 'true' && request.url === '/metadata/scheduledevents?api-version=2020-07-01';
    if (!wellFormed) {
      response.writeHead(400).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ DocumentIncarnation: this.incarnation, Events: this.events }));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  preempt(): void {
    this.incarnation += 1;
    this.events = [
      {
        EventId: 'A123BC45-1234-5678-AB90-ABCDEF123456',
        EventStatus: 'Scheduled',
        EventType: 'Preempt',
        ResourceType: 'VirtualMachine',
        Resources: ['worker-vm'],
        NotBefore: new Date(Date.now() + 30_000).toUTCString(),
        Description: 'Spot eviction',
        EventSource: 'Platform',
        DurationInSeconds: -1,
      },
    ];
  }

  withdraw(): void {
    this.incarnation += 1;
    this.events = [];
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('Azure scheduled events (CLI against a local metadata endpoint)', () => {
  const home = tempHome();
  const metadata = new MetadataServer();
  let endpoint = '';
  before(async () => {
    endpoint = await metadata.start();
  });
  after(async () => {
    await metadata.stop();
    home.cleanup();
  });

  it('a Preempt event stops and releases the running task; its disappearance resumes work', async () => {
    const marker = path.join(home.home, 'preempted');
    const cmd = `if [ -f ${marker} ]; then echo second-run; exit 0; fi; touch ${marker}; trap 'echo heard-term; exit 0' TERM; echo ready; sleep 1301 & wait`;
    await runCli(['local/evicted', 'push', '-c', cmd], { env: home.env });
    const worker = startCli(['local/evicted', 'worker'], { env: { ...home.env, JOBQ_IMDS_ENDPOINT: endpoint } });
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
      env: { ...home.env, JOBQ_IMDS_ENDPOINT: endpoint, JOBQ_DISABLE_SCHEDULED_EVENTS: '1' },
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
});
