/**
 * The Azure scheduled-events detector against a stand-in that speaks the
 * protocol over HTTP: a Preempt event for this machine is a notice whose
 * deadline is its NotBefore, withdrawn when the event goes; events for other
 * machines are logged only; an endpoint that hangs or returns garbage is
 * logged once and the detector goes on, and a stop never waits for it.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { AzureScheduledEvents, type AzureScheduledEventsOptions } from '../../../src/signals/notices/azure.js';
import { azurePaths, FakeAzureMetadata } from '../../helpers/fake-azure-metadata.js';
import { MemoryLog, RecordingSink } from '../../helpers/notice-recorder.js';
import { waitFor } from '../../helpers/wait.js';

describe('Azure scheduled events detector', () => {
  const fake = new FakeAzureMetadata();
  let url = '';
  const running: AzureScheduledEvents[] = [];
  before(async () => {
    url = new URL('/metadata/scheduledevents?api-version=2020-07-01', await fake.start()).href;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((detector) => detector.stop()));
    fake.fault = undefined;
    fake.withdraw();
  });
  after(() => fake.stop());

  function start(options: Partial<AzureScheduledEventsOptions> = {}): { sink: RecordingSink; log: MemoryLog } {
    const sink = new RecordingSink();
    const log = new MemoryLog();
    const fast = { intervalMs: 50, requestTimeoutMs: 500 };
    const detector = new AzureScheduledEvents({ url, ...fast, sink, logger: log.logger, ...options });
    running.push(detector);
    detector.start();
    return { sink, log };
  }

  it('the fake refuses a request without the Metadata header', async () => {
    const response = await fetch(url);
    assert.equal(response.status, 400);
    assert.equal((await fetch(url, { headers: { Metadata: 'true' } })).status, 200);
  });

  it('a Preempt event is a notice with NotBefore as its deadline; its disappearance withdraws it', async () => {
    const { sink, log } = start();
    await waitFor(() => fake.requestsTo(azurePaths.scheduledEvents) > 0);
    const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 + 30_000);
    fake.preempt({ notBefore });
    await waitFor(() => sink.current !== undefined, { message: () => log.toString() });
    assert.equal(sink.current?.source, 'azure');
    assert.equal(sink.current?.deadline?.getTime(), notBefore.getTime());
    assert.match(sink.current?.detail ?? '', /Preempt event A123BC45/);
    assert.equal(log.events('preemption_notice').length, 1);
    const polls = fake.requestsTo(azurePaths.scheduledEvents);
    await waitFor(() => fake.requestsTo(azurePaths.scheduledEvents) > polls + 3);
    assert.equal(sink.calls.length, 1, 'the same notice is reported once, however often it is read');
    fake.withdraw();
    await waitFor(() => sink.calls.length === 2);
    assert.equal(sink.current, undefined);
    assert.equal(log.events('preemption_notice_withdrawn').length, 1);
  });

  it('an event that has started (blank NotBefore) has its deadline now', async () => {
    const { sink } = start();
    const before = Date.now();
    fake.preempt({ notBefore: 'started' });
    await waitFor(() => sink.current !== undefined);
    const deadline = sink.current?.deadline?.getTime() ?? 0;
    assert.ok(deadline >= before && deadline <= Date.now(), `deadline ${deadline} is when the event was seen`);
  });

  it('a Preempt event for other machines is logged, not reported; one naming this machine is', async () => {
    const { sink, log } = start();
    const nameLookups = fake.requestsTo(azurePaths.computeName);
    fake.preempt({ resources: ['other-vm-1', 'other-vm-2'], eventId: 'OTHER' });
    await waitFor(() => log.events('scheduled_event').length > 0);
    assert.match(log.events('scheduled_event')[0]?.msg ?? '', /for other-vm-1, other-vm-2 .*for another machine/);
    assert.equal(fake.requestsTo(azurePaths.computeName), nameLookups + 1, "this machine's name is asked for once");
    fake.preempt({ resources: ['other-vm-3', 'WORKER-VM'], eventId: 'OURS' });
    await waitFor(() => sink.current !== undefined);
    assert.match(sink.current?.detail ?? '', /OURS/);
    assert.doesNotMatch(sink.current?.detail ?? '', /OTHER/);
    assert.equal(fake.requestsTo(azurePaths.computeName), nameLookups + 1);
  });

  it('with notices ignored (JOBQ_DISABLE_SCHEDULED_EVENTS=1) the event is logged and nothing reported', async () => {
    const { sink, log } = start({ ignoredBecause: 'JOBQ_DISABLE_SCHEDULED_EVENTS=1' });
    fake.preempt();
    await waitFor(() => log.events('preemption_notice_ignored').length > 0);
    assert.match(log.events('preemption_notice_ignored')[0]?.msg ?? '', /not acting on it/);
    assert.deepEqual(sink.calls, []);
  });

  it('an endpoint that hangs is logged once and the detector recovers', async () => {
    fake.fault = 'hang';
    const { sink, log } = start({ requestTimeoutMs: 200 });
    await waitFor(() => log.events('notice_endpoint_error').length > 0, { message: () => log.toString() });
    const from = fake.requests;
    await waitFor(() => fake.requests >= from + 3, { message: () => log.toString() });
    assert.equal(log.events('notice_endpoint_error').length, 1, log.toString());
    assert.match(log.events('notice_endpoint_error')[0]?.msg ?? '', /no answer within 200 ms/);
    fake.fault = undefined;
    fake.preempt();
    await waitFor(() => sink.current !== undefined, { message: () => log.toString() });
    // The recovery is logged once the whole poll has ended, which can be after the notice is reported.
    await waitFor(() => log.events('notice_endpoint_recovered').length > 0, { message: () => log.toString() });
    assert.equal(log.events('notice_endpoint_recovered').length, 1);
  });

  it('garbage neither raises nor withdraws a notice; the detector goes on', async () => {
    const { sink, log } = start();
    fake.preempt();
    await waitFor(() => sink.current !== undefined);
    fake.fault = 'garbage';
    const from = fake.requests;
    await waitFor(() => fake.requests >= from + 5);
    assert.equal(sink.calls.length, 1, 'the notice stands');
    assert.equal(log.events('notice_endpoint_error').length, 1, log.toString());
    assert.match(log.events('notice_endpoint_error')[0]?.msg ?? '', /JSON|scheduled-events document/);
    fake.fault = undefined;
    fake.withdraw();
    await waitFor(() => sink.calls.length === 2);
    assert.equal(sink.current, undefined);
  });

  it('stop() ends a request in flight at once and can be called again', async () => {
    fake.fault = 'hang';
    const sink = new RecordingSink();
    const detector = new AzureScheduledEvents({ url, requestTimeoutMs: 600_000, sink, logger: new MemoryLog().logger });
    detector.start();
    await waitFor(() => fake.requests > 0);
    const stopping = detector.stop();
    assert.equal(detector.stop(), detector.stop(), 'the same promise');
    await stopping;
    await detector.stop();
  });
});
