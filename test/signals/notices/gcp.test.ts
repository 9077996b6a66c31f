/**
 * The GCP detector against a stand-in for the metadata server that refuses
 * requests without `Metadata-Flavor: Google` and holds `wait_for_change`
 * requests until the value changes: a preemption is seen the moment it
 * happens, with a deadline 30 s later, without any polling in between; the
 * maintenance event is logged; an endpoint that hangs or returns garbage is
 * logged and the detector recovers.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { GcpPreemption, type GcpPreemptionOptions } from '../../../src/signals/notices/gcp.js';
import { FakeGceMetadata, gcePaths } from '../../helpers/fake-gce-metadata.js';
import { MemoryLog, RecordingSink } from '../../helpers/notice-recorder.js';
import { waitFor } from '../../helpers/wait.js';

describe('GCP preemption detector (metadata long polls)', () => {
  let fake = new FakeGceMetadata();
  const running: GcpPreemption[] = [];
  before(() => fake.start());
  afterEach(async () => {
    await Promise.all(running.splice(0).map((detector) => detector.stop()));
    // A fresh server for each test: a preempted VM stays preempted.
    await fake.stop();
    fake = new FakeGceMetadata();
    await fake.start();
  });
  after(() => fake.stop());

  function start(options: Partial<GcpPreemptionOptions> = {}): { sink: RecordingSink; log: MemoryLog } {
    const sink = new RecordingSink();
    const log = new MemoryLog();
    const detector = new GcpPreemption({ endpoint: fake.url, retryDelayMs: 50, sink, logger: log.logger, ...options });
    running.push(detector);
    detector.start();
    return { sink, log };
  }

  it('the fake refuses a request without Metadata-Flavor: Google and holds wait_for_change as the real server does', async () => {
    const url = new URL(gcePaths.preempted, fake.url);
    const flavor = { 'Metadata-Flavor': 'Google' };
    assert.equal((await fetch(url)).status, 403);
    const first = await fetch(url, { headers: flavor });
    assert.equal(first.headers.get('metadata-flavor'), 'Google');
    assert.equal(await first.text(), 'FALSE');
    const etag = first.headers.get('etag') ?? '';
    const held = fetch(`${url.href}?wait_for_change=true&last_etag=${etag}`, { headers: flavor });
    await waitFor(() => fake.held === 1);
    fake.set(gcePaths.preempted, 'TRUE');
    const changed = await held;
    assert.equal(await changed.text(), 'TRUE');
    assert.notEqual(changed.headers.get('etag'), etag);
    const stale = await fetch(`${url.href}?wait_for_change=true&last_etag=${etag}`, { headers: flavor });
    assert.equal(await stale.text(), 'TRUE', 'a stale ETag is answered at once');
    const current = stale.headers.get('etag') ?? '';
    const timedOut = await fetch(`${url.href}?wait_for_change=true&last_etag=${current}&timeout_sec=1`, { headers: flavor });
    assert.equal(timedOut.headers.get('etag'), current, 'after timeout_sec the unchanged value');
  });

  it('TRUE is a notice 30 s from when it was seen, and nothing is polled while nothing changes', async () => {
    const { sink, log } = start();
    await waitFor(() => fake.held === 2, { message: () => log.toString() });
    assert.equal(fake.requests, 4, 'one read and one held request for each of the two values');
    const before = Date.now();
    fake.set(gcePaths.preempted, 'TRUE');
    await waitFor(() => sink.current !== undefined, { message: () => log.toString() });
    const deadline = sink.current?.deadline?.getTime() ?? 0;
    assert.ok(deadline >= before + 30_000 && deadline <= Date.now() + 30_000, `deadline ${deadline}`);
    assert.equal(sink.current?.source, 'gcp');
    await waitFor(() => fake.held === 2);
    assert.equal(fake.requests, 5, 'the answered request was replaced by one more, held');
    assert.equal(fake.forbidden, 0);
    assert.equal(log.events('preemption_notice').length, 1);
  });

  it('the maintenance event is logged when it comes and when it is over', async () => {
    const { sink, log } = start();
    await waitFor(() => fake.held === 2);
    fake.set(gcePaths.maintenanceEvent, 'TERMINATE_ON_HOST_MAINTENANCE');
    await waitFor(() => log.events('maintenance_event').length === 1);
    assert.match(log.events('maintenance_event')[0]?.msg ?? '', /TERMINATE_ON_HOST_MAINTENANCE/);
    fake.set(gcePaths.maintenanceEvent, 'NONE');
    await waitFor(() => log.events('maintenance_event').length === 2);
    assert.deepEqual(sink.calls, [], 'a maintenance event is not a preemption notice');
  });

  it('an endpoint that hangs is logged and the detector recovers', async () => {
    fake.fault = 'hang';
    const { sink, log } = start({ waitSeconds: 1, requestTimeoutMs: 200 });
    await waitFor(() => fake.requestsTo(gcePaths.preempted) >= 3, { message: () => log.toString() });
    const errors = log.events('notice_endpoint_error');
    assert.equal(errors.filter((record) => /preempted/.test(record.msg ?? '')).length, 1, log.toString());
    fake.fault = undefined;
    fake.set(gcePaths.preempted, 'TRUE');
    await waitFor(() => sink.current !== undefined, { message: () => log.toString() });
  });

  it('an answer that is not from a metadata server (garbage) is a failure, and the detector recovers', async () => {
    fake.fault = 'garbage';
    const { sink, log } = start();
    await waitFor(() => fake.requestsTo(gcePaths.preempted) >= 3);
    assert.match(log.events('notice_endpoint_error')[0]?.msg ?? '', /not from a GCE metadata server/);
    assert.deepEqual(sink.calls, []);
    fake.fault = undefined;
    await waitFor(() => fake.held === 2, { message: () => log.toString() });
    fake.set(gcePaths.preempted, 'TRUE');
    await waitFor(() => sink.current !== undefined);
  });

  it('stop() ends the held requests at once', async () => {
    const { log } = start();
    await waitFor(() => fake.held === 2);
    const detector = running.pop();
    await detector?.stop();
    await waitFor(() => fake.held === 0, { message: () => log.toString() });
  });
});
