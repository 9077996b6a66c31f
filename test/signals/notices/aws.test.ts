/**
 * The AWS spot detector against a stand-in for IMDSv2 that refuses what the
 * real service refuses: the notice's `time` is its deadline, a cancelled
 * interruption withdraws it, the session token is renewed before it expires
 * (and at once when the service forgets it), a rebalance recommendation is
 * reported once per recommendation, and an endpoint that hangs or returns
 * garbage is logged once while the detector goes on.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { AwsSpotNotices, type AwsSpotNoticesOptions } from '../../../src/signals/notices/aws.js';
import { FakeImds, imdsPaths } from '../../helpers/fake-imds.js';
import { MemoryLog, RecordingSink } from '../../helpers/notice-recorder.js';
import { waitFor } from '../../helpers/wait.js';

describe('AWS spot notices detector (IMDSv2)', () => {
  const fake = new FakeImds();
  let endpoint = '';
  const running: AwsSpotNotices[] = [];
  before(async () => {
    endpoint = await fake.start();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((detector) => detector.stop()));
    fake.fault = undefined;
    fake.cancelInterruption();
    fake.withdrawRebalance();
  });
  after(() => fake.stop());

  function start(options: Partial<AwsSpotNoticesOptions> = {}): { sink: RecordingSink; log: MemoryLog } {
    const sink = new RecordingSink();
    const log = new MemoryLog();
    const fast = { intervalMs: 50, requestTimeoutMs: 500 };
    const detector = new AwsSpotNotices({ endpoint, ...fast, sink, logger: log.logger, ...options });
    running.push(detector);
    detector.start();
    return { sink, log };
  }

  it('the fake refuses as IMDSv2 does: no TTL 400, X-Forwarded-For 403, no or expired token 401', async () => {
    const tokenUrl = new URL(imdsPaths.token, endpoint);
    const actionUrl = new URL(imdsPaths.instanceAction, endpoint);
    assert.equal((await fetch(tokenUrl, { method: 'PUT' })).status, 400);
    const tooLong = { 'X-aws-ec2-metadata-token-ttl-seconds': '21601' };
    assert.equal((await fetch(tokenUrl, { method: 'PUT', headers: tooLong })).status, 400);
    const forwarded = { 'X-aws-ec2-metadata-token-ttl-seconds': '60', 'X-Forwarded-For': '10.0.0.1' };
    assert.equal((await fetch(tokenUrl, { method: 'PUT', headers: forwarded })).status, 403);
    assert.equal((await fetch(actionUrl)).status, 401);
    const granted = await fetch(tokenUrl, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '1' } });
    assert.equal(granted.headers.get('x-aws-ec2-metadata-token-ttl-seconds'), '1');
    const token = await granted.text();
    assert.equal((await fetch(actionUrl, { headers: { 'X-aws-ec2-metadata-token': token } })).status, 404);
    await waitFor(async () => (await fetch(actionUrl, { headers: { 'X-aws-ec2-metadata-token': token } })).status === 401, {
      timeoutMs: 5_000,
      message: () => 'a token outlived its TTL',
    });
  });

  it('an instance-action is a notice with its time as the deadline; a cancelled one is withdrawn', async () => {
    const refused = fake.unauthorized;
    const { sink, log } = start();
    await waitFor(() => fake.requestsTo(imdsPaths.instanceAction) > 0);
    const time = new Date(Math.floor(Date.now() / 1000) * 1000 + 120_000);
    fake.interrupt('terminate', time);
    await waitFor(() => sink.current !== undefined, { message: () => log.toString() });
    assert.equal(sink.current?.source, 'aws');
    assert.equal(sink.current?.deadline?.getTime(), time.getTime());
    assert.match(sink.current?.detail ?? '', /instance-action terminate/);
    const polls = fake.requestsTo(imdsPaths.instanceAction);
    await waitFor(() => fake.requestsTo(imdsPaths.instanceAction) > polls + 3);
    assert.equal(sink.calls.length, 1, 'the same notice is reported once');
    fake.cancelInterruption();
    await waitFor(() => sink.calls.length === 2);
    assert.equal(sink.current, undefined);
    assert.equal(fake.unauthorized, refused, 'every request carried a valid token');
  });

  it('an instance-action whose time cannot be read gets the 2 minutes AWS gives', async () => {
    const { sink } = start();
    const before = Date.now();
    fake.interrupt('stop', 'soon');
    await waitFor(() => sink.current !== undefined);
    const deadline = sink.current?.deadline?.getTime() ?? 0;
    assert.ok(deadline >= before + 120_000 && deadline <= Date.now() + 120_000, `deadline ${deadline}`);
  });

  it('the token is renewed before it expires, and at once when the service forgets it', async () => {
    const { sink, log } = start({ tokenTtlSeconds: 2 });
    const issued = fake.tokensIssued;
    const refused = fake.unauthorized;
    await waitFor(() => fake.tokensIssued >= issued + 3, { message: () => log.toString() });
    assert.equal(fake.unauthorized, refused, 'no request went out with an expired token');
    fake.forgetTokens();
    await waitFor(() => fake.unauthorized > refused);
    fake.interrupt('terminate', new Date(Date.now() + 60_000));
    await waitFor(() => sink.current !== undefined);
    assert.deepEqual(log.events('notice_endpoint_error'), [], 'a refused token is replaced without a failure');
  });

  it('a rebalance recommendation is logged and reported once; withdrawn and made again, it is reported again', async () => {
    const { sink, log } = start();
    fake.recommendRebalance(new Date());
    await waitFor(() => sink.rebalances.length > 0);
    const polls = fake.requestsTo(imdsPaths.rebalance);
    await waitFor(() => fake.requestsTo(imdsPaths.rebalance) > polls + 3);
    assert.equal(sink.rebalances.length, 1);
    assert.equal(log.events('rebalance_recommendation').length, 1);
    fake.withdrawRebalance();
    await waitFor(() => log.events('rebalance_recommendation_withdrawn').length === 1);
    fake.recommendRebalance(new Date(Date.now() + 5_000));
    await waitFor(() => sink.rebalances.length === 2);
    assert.deepEqual(sink.calls, [], 'a recommendation is not a preemption notice');
  });

  it('an endpoint that hangs is logged once and the detector recovers', async () => {
    fake.fault = 'hang';
    const { sink, log } = start({ requestTimeoutMs: 200 });
    await waitFor(() => log.events('notice_endpoint_error').length > 0, { message: () => log.toString() });
    const from = fake.requests;
    await waitFor(() => fake.requests >= from + 3, { message: () => log.toString() });
    assert.equal(log.events('notice_endpoint_error').length, 1, log.toString());
    fake.fault = undefined;
    fake.interrupt('terminate', new Date(Date.now() + 60_000));
    await waitFor(() => sink.current !== undefined, { message: () => log.toString() });
    // The recovery is logged once the whole poll has ended, which can be after the notice is reported.
    await waitFor(() => log.events('notice_endpoint_recovered').length > 0, { message: () => log.toString() });
    assert.equal(log.events('notice_endpoint_recovered').length, 1);
  });

  it('an endpoint nobody listens on is logged once, however often it is tried', async () => {
    const log = new MemoryLog();
    const nobody = 'http://127.0.0.1:1';
    const detector = new AwsSpotNotices({ endpoint: nobody, intervalMs: 20, sink: new RecordingSink(), logger: log.logger });
    running.push(detector);
    detector.start();
    await waitFor(() => log.events('notice_endpoint_error').length > 0);
    const first = log.events('notice_endpoint_error')[0]?.msg ?? '';
    assert.match(first, /ECONNREFUSED/);
    // Tried again every 20 ms: wait for a stand-in's requests to be sure time has passed, then count the lines.
    const from = fake.requests;
    const control = new AwsSpotNotices({ endpoint, intervalMs: 20, sink: new RecordingSink(), logger: new MemoryLog().logger });
    running.push(control);
    control.start();
    await waitFor(() => fake.requests >= from + 20);
    assert.equal(log.events('notice_endpoint_error').length, 1, log.toString());
  });

  it('garbage neither raises nor withdraws a notice; the detector goes on', async () => {
    const { sink, log } = start();
    fake.interrupt('terminate', new Date(Date.now() + 60_000));
    await waitFor(() => sink.current !== undefined);
    fake.fault = 'garbage';
    const from = fake.requests;
    await waitFor(() => fake.requests >= from + 5);
    assert.equal(sink.calls.length, 1, 'the notice stands');
    assert.equal(log.events('notice_endpoint_error').length, 1, log.toString());
    assert.match(log.events('notice_endpoint_error')[0]?.msg ?? '', /not JSON|not a token/);
    fake.fault = undefined;
    fake.cancelInterruption();
    await waitFor(() => sink.calls.length === 2);
  });
});
