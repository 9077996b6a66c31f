/**
 * Which detectors run, where they ask, and the notice options, from the
 * environment and the firmware identity (files in a temporary folder standing
 * for /sys/class/dmi/id). Off the clouds nothing runs: checked with counting
 * stand-ins for all three metadata services.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { hasCode } from '../../../src/errors.js';
import { resolveNoticeOptions, type NoticeOptions } from '../../../src/signals/notices/options.js';
import { readDmiIdentity, recognisePlatforms, type DmiIdentity } from '../../../src/signals/notices/platform.js';
import { NoticeWatch } from '../../../src/signals/notices/watch.js';
import { FakeAzureMetadata } from '../../helpers/fake-azure-metadata.js';
import { FakeGceMetadata } from '../../helpers/fake-gce-metadata.js';
import { FakeImds } from '../../helpers/fake-imds.js';
import { MemoryLog, RecordingSink } from '../../helpers/notice-recorder.js';
import { waitFor } from '../../helpers/wait.js';

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A DMI folder holding the given files. */
function dmi(files: Record<string, string>): DmiIdentity {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jobq-dmi-'));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), `${text}\n`);
  return readDmiIdentity(dir);
}

const laptop = (): DmiIdentity => dmi({ sys_vendor: 'LENOVO', product_name: '20XW0026GE', bios_version: 'N32ET86W (1.62 )' });

function resolve(env: NodeJS.ProcessEnv, identity: DmiIdentity = laptop(), given: NoticeOptions = {}) {
  return resolveNoticeOptions(given, env, identity);
}

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => hasCode(err, 'USAGE') && pattern.test((err as Error).message));
}

describe('platform recognition', () => {
  it('by the firmware identity, as each cloud writes it', () => {
    const hyperV = { sys_vendor: 'Microsoft Corporation', product_name: 'Virtual Machine' };
    const cases: [Record<string, string>, string[]][] = [
      [{ sys_vendor: 'Amazon EC2', product_name: 'm5.large' }, ['aws']],
      [{ sys_vendor: 'Xen', product_name: 'HVM domU', bios_version: '4.11.amazon' }, ['aws']],
      [{ sys_vendor: 'Google', product_name: 'Google Compute Engine' }, ['gcp']],
      [{ ...hyperV, chassis_asset_tag: '7783-7084-3265-9085-8269-3286-77' }, ['azure']],
      [{ ...hyperV, chassis_asset_tag: '0000-0000-0000' }, []],
      [{ sys_vendor: 'QEMU', product_name: 'Standard PC (Q35 + ICH9, 2009)' }, []],
    ];
    for (const [files, expected] of cases) {
      assert.deepEqual(
        recognisePlatforms({}, dmi(files)).map((found) => found.source),
        expected,
        JSON.stringify(files),
      );
    }
    const found = recognisePlatforms({}, dmi({ sys_vendor: 'Amazon EC2' }));
    assert.match(found[0]?.because ?? '', /sys_vendor is "Amazon EC2"/);
  });

  it('by the variables Azure Batch sets; no folder is no information', () => {
    const none = readDmiIdentity('/nonexistent/dmi');
    assert.deepEqual(recognisePlatforms({}, none), []);
    assert.deepEqual(recognisePlatforms({ AZ_BATCH_NODE_ID: 'tvm-1' }, none), [
      { source: 'azure', because: 'AZ_BATCH_NODE_ID is set' },
    ]);
    assert.deepEqual(recognisePlatforms({ AZ_BATCHAI_CLUSTER_NAME: '' }, none), [], 'an empty variable is not set');
  });
});

describe('notice options', () => {
  it('off the clouds nothing runs, whatever endpoints are set', () => {
    const resolved = resolve({
      JOBQ_AWS_IMDS_ENDPOINT: 'http://127.0.0.1:1',
      JOBQ_GCP_METADATA_ENDPOINT: 'http://127.0.0.1:2',
      JOBQ_IMDS_ENDPOINT: 'http://127.0.0.1:3',
    });
    assert.deepEqual(resolved, { detectors: [], marginMs: 10_000, drainOnRebalance: false });
  });

  it('a recognised platform runs its detector at the platform address', () => {
    const google = dmi({ sys_vendor: 'Google' });
    assert.deepEqual(resolve({}, google).detectors, [
      { source: 'gcp', endpoint: 'http://metadata.google.internal', because: `${path.join(google.dir, 'sys_vendor')} is "Google"` },
    ]);
    const [azure] = resolve({ AZ_BATCH_TASK_ID: 't' }).detectors;
    assert.deepEqual(azure, {
      source: 'azure',
      url: 'http://169.254.169.254/metadata/scheduledevents?api-version=2020-07-01',
      ignoredBecause: undefined,
      because: 'AZ_BATCH_TASK_ID is set',
    });
  });

  it('JOBQ_PREEMPTION_NOTICES chooses the detectors, or turns them off', () => {
    const chosen = resolve({ JOBQ_PREEMPTION_NOTICES: ' GCP, aws ,gcp' }).detectors.map((one) => one.source);
    assert.deepEqual(chosen, ['gcp', 'aws']);
    assert.deepEqual(resolve({ JOBQ_PREEMPTION_NOTICES: 'off' }, dmi({ sys_vendor: 'Amazon EC2' })).detectors, []);
    assert.deepEqual(resolve({ JOBQ_PREEMPTION_NOTICES: 'auto' }, dmi({ sys_vendor: 'Amazon EC2' })).detectors.length, 1);
    usageError(() => resolve({ JOBQ_PREEMPTION_NOTICES: 'aws,oracle' }), /JOBQ_PREEMPTION_NOTICES "aws,oracle".*azure, aws, gcp/);
    usageError(() => resolve({ JOBQ_PREEMPTION_NOTICES: 'off,aws' }), /JOBQ_PREEMPTION_NOTICES/);
    const given = resolve({ JOBQ_PREEMPTION_NOTICES: 'azure' }, laptop(), { sources: 'off' });
    assert.deepEqual(given.detectors, [], 'given beats the environment');
  });

  it('endpoints: the JOBQ_ variables, then the SDKs’ own, each checked and named when bad', () => {
    const all = 'aws,gcp,azure';
    const where = (env: NodeJS.ProcessEnv) =>
      resolve({ JOBQ_PREEMPTION_NOTICES: all, ...env }).detectors.map((one) => (one.source === 'azure' ? one.url : one.endpoint));
    const ours = {
      JOBQ_AWS_IMDS_ENDPOINT: 'http://127.0.0.1:81',
      JOBQ_GCP_METADATA_ENDPOINT: 'http://127.0.0.1:82/',
      JOBQ_IMDS_ENDPOINT: 'http://127.0.0.1:83',
    };
    assert.deepEqual(where(ours), [
      'http://127.0.0.1:81',
      'http://127.0.0.1:82',
      'http://127.0.0.1:83/metadata/scheduledevents?api-version=2020-07-01',
    ]);
    const sdks = {
      AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://[fd00:ec2::254]',
      GCE_METADATA_HOST: '169.254.169.254:8080',
      JOBQ_IMDS_ENDPOINT: 'http://127.0.0.1:83/custom?x=1',
    };
    assert.deepEqual(where(sdks), [
      'http://[fd00:ec2::254]',
      'http://169.254.169.254:8080',
      'http://127.0.0.1:83/custom?x=1',
    ]);
    usageError(() => where({ JOBQ_AWS_IMDS_ENDPOINT: 'not a url' }), /invalid JOBQ_AWS_IMDS_ENDPOINT "not a url"/);
    usageError(() => where({ JOBQ_GCP_METADATA_ENDPOINT: 'ftp://x' }), /invalid JOBQ_GCP_METADATA_ENDPOINT/);
    usageError(() => where({ JOBQ_AWS_IMDS_ENDPOINT: 'http://127.0.0.1:81/latest' }), /JOBQ_AWS_IMDS_ENDPOINT.*without a path/);
  });

  it('JOBQ_DISABLE_SCHEDULED_EVENTS, JOBQ_PREEMPTION_MARGIN and JOBQ_DRAIN_ON_REBALANCE', () => {
    const env = {
      JOBQ_PREEMPTION_NOTICES: 'azure',
      JOBQ_DISABLE_SCHEDULED_EVENTS: 'True',
      JOBQ_PREEMPTION_MARGIN: '30',
      JOBQ_DRAIN_ON_REBALANCE: '1',
    };
    const resolved = resolve(env);
    const [azure] = resolved.detectors;
    assert.equal(azure?.source === 'azure' && azure.ignoredBecause, 'JOBQ_DISABLE_SCHEDULED_EVENTS=1');
    assert.equal(resolved.marginMs, 30_000);
    assert.equal(resolved.drainOnRebalance, true);
    assert.equal(resolve({ JOBQ_PREEMPTION_MARGIN: '1m' }).marginMs, 60_000);
    assert.equal(resolve({ JOBQ_PREEMPTION_MARGIN: '1m' }, laptop(), { marginMs: 5_000 }).marginMs, 5_000);
    usageError(() => resolve({ JOBQ_PREEMPTION_MARGIN: 'soon' }), /JOBQ_PREEMPTION_MARGIN "soon"/);
    usageError(() => resolve({ JOBQ_DRAIN_ON_REBALANCE: 'maybe' }), /invalid JOBQ_DRAIN_ON_REBALANCE "maybe"/);
  });
});

describe('no platform recognised: no metadata request at all', () => {
  it('with every endpoint pointed at a counting stand-in, none is asked while a detector that runs polls its own', async () => {
    const fakes = { aws: new FakeImds(), gcp: new FakeGceMetadata(), azure: new FakeAzureMetadata() };
    const control = new FakeAzureMetadata();
    const env = {
      JOBQ_AWS_IMDS_ENDPOINT: await fakes.aws.start(),
      JOBQ_GCP_METADATA_ENDPOINT: await fakes.gcp.start(),
      JOBQ_IMDS_ENDPOINT: await fakes.azure.start(),
    };
    const log = new MemoryLog();
    const idle = new NoticeWatch(resolve(env).detectors, { sink: new RecordingSink(), logger: log.logger });
    const controlled = resolve({ JOBQ_PREEMPTION_NOTICES: 'azure', JOBQ_IMDS_ENDPOINT: await control.start() });
    const running = new NoticeWatch(controlled.detectors, { sink: new RecordingSink(), logger: log.logger });
    try {
      idle.start();
      running.start();
      // The control polls every second: by its third request, anything the idle watch would do has happened.
      await waitFor(() => control.requests >= 3);
      assert.deepEqual([fakes.aws.requests, fakes.gcp.requests, fakes.azure.requests], [0, 0, 0]);
      assert.equal(log.events('notice_watch').length, 1, 'only the control says it watches');
    } finally {
      await Promise.all([idle.stop(), running.stop()]);
      await Promise.all([...Object.values(fakes), control].map((fake) => fake.stop()));
    }
  });
});
