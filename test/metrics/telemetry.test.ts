/**
 * A worker's metrics and telemetry through the CLI: Prometheus `/metrics`
 * counts match the history of the same run; an OTLP receiver (which refuses
 * the first export of each signal) and an Azure Monitor ingestion stub on
 * loopback get the task events with the dimensions ai4s-jobq gives them
 * (JOBQ_ENVIRONMENT_NAME, queue, worker id), and a secret in a command
 * hidden; and a worker without metrics flags loads none of their libraries.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { startAzureMonitorIngestion } from '../helpers/azure-monitor-ingestion.js';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { attributes, startOtlpReceiver, type OtlpDataPoint } from '../helpers/otlp-receiver.js';
import { fixturesDir } from '../helpers/paths.js';
import { waitForValue } from '../helpers/wait.js';

const spec = 'local/metrics';
const secret = 'hf-7d1c9e3b5a';

/** Attempts as `jobq history --json` prints them. */
interface AttemptJson {
  readonly task_id: string;
  readonly worker_id: string;
  readonly outcome: string;
  readonly ended_at: string;
}

async function history(env: NodeJS.ProcessEnv): Promise<AttemptJson[]> {
  const result = await runCli([spec, 'history', '--json'], { env });
  return result.stdout.trim() === '' ? [] : result.stdout.trim().split('\n').map((line) => JSON.parse(line) as AttemptJson);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** The samples of one metric in Prometheus's text format, by their labels. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const pairs = [...(/\{(.*)\}/.exec(line)?.[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)];
      const labels: Record<string, string> = Object.fromEntries(pairs.map((m): [string, string] => [m[1] ?? '', m[2] ?? '']));
      return { labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) };
    });
}

/** Three that succeed (one with a secret in its command), and one that fails twice: retried, then dead-lettered. */
async function pushRun(env: NodeJS.ProcessEnv, first: string[] = []): Promise<void> {
  const ok = ['-c', 'echo one', '-c', 'echo two', '-c', `HF_TOKEN=${secret} true`];
  assert.equal((await runCli([spec, 'push', ...first, ...ok], { env })).code, 0);
  assert.equal((await runCli([spec, 'push', '--num-retries', '1', '-c', 'echo bad; exit 5'], { env })).code, 0);
}

describe('worker metrics', () => {
  const home = tempHome();
  after(() => home.cleanup());

  it('serves Prometheus /metrics whose counts match the history of the run', async () => {
    const env = { ...home.env, JOBQ_ENVIRONMENT_NAME: 'prom-env' };
    // One slot holds a long task, so that the worker is still there to be scraped when the others are done.
    await pushRun(env, ['-c', 'sleep 120 # hold']);
    const worker = startCli([spec, 'worker', '-n', '2', '--metrics-port', '0'], { env });
    try {
      await worker.waitForOutput(/Prometheus metrics at http:\S+/);
      const url = /Prometheus metrics at (http:\S+)/.exec(worker.output)?.[1] ?? '';
      const attempts = await waitForValue(async () => {
        const found = await history(env);
        return found.length === 5 ? found : undefined;
      }, { message: () => worker.output });
      const text = await (await fetch(url)).text();
      const byOutcome = countBy(attempts, (a) => a.outcome);
      assert.deepEqual({ ...byOutcome }, { succeeded: 3, retried: 1, 'dead-lettered': 1 });
      const workerId = attempts[0]?.worker_id;
      for (const sample of samples(text, 'jobq_tasks_total')) {
        assert.equal(sample.value, byOutcome[sample.labels['outcome'] ?? ''] ?? 0, `jobq_tasks_total ${JSON.stringify(sample.labels)}`);
        assert.deepEqual({ queue: sample.labels['queue'], worker: sample.labels['worker_id'], env: sample.labels['environment'] }, { queue: 'metrics', worker: workerId, env: 'prom-env' });
      }
      assert.equal(samples(text, 'jobq_tasks_total').length, 5, 'every outcome, zeros included');
      const counts = samples(text, 'jobq_task_duration_seconds_count');
      assert.deepEqual(Object.fromEntries(counts.map((s) => [s.labels['outcome'], s.value])), byOutcome);
      const gauge = (name: string) => samples(text, name)[0]?.value;
      assert.equal(gauge('jobq_running_tasks'), 1);
      assert.equal(gauge('jobq_slots'), 2);
      assert.equal(gauge('jobq_leases_held'), 1);
      assert.equal(gauge('jobq_queue_depth'), 1);
      assert.equal(gauge('jobq_dead_letters'), 1);
      assert.equal(gauge('jobq_preempted'), 0);
      assert.deepEqual(samples(text, 'jobq_worker_phase').find((s) => s.value === 1)?.labels['phase'], 'running');
    } finally {
      worker.signal('SIGINT');
      await worker.exited;
    }
  });

  it('sends metrics and task events over OTLP, with the dimensions, after refusals', async () => {
    const receiver = await startOtlpReceiver({ refuse: 1 });
    try {
      const env = { ...home.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, JOBQ_ENVIRONMENT_NAME: 'otel-env' };
      await runCli([spec, 'clear', '--yes'], { env });
      await pushRun(env);
      const since = Date.now();
      const worker = await runCli([spec, 'worker'], { env });
      assert.equal(worker.code, 0, worker.stderr);
      const attempts = (await history(env)).filter((a) => Date.parse(a.ended_at) >= since);
      const workerId = attempts[0]?.worker_id;
      assert.ok(receiver.requests.get('/v1/logs')! >= 2, 'the refused export was sent again');

      const events = receiver.logs.map(({ resource, record }) => ({ resource, name: record.eventName, fields: attributes(record.attributes) }));
      const taskEvents = events.filter((e) => String(e.name).startsWith('task_'));
      assert.deepEqual(countBy(taskEvents, (e) => String(e.name)), { task_start: 5, task_success: 3, task_failure: 2, task_retry: 1, task_give_up: 1 });
      for (const e of events) {
        assert.equal(e.fields['queue'], 'metrics');
        assert.equal(e.fields['worker_id'], workerId);
        assert.equal(e.fields['environment'], 'otel-env');
        assert.equal(e.resource['service.instance.id'], workerId);
        assert.equal(e.fields['event'], e.name);
      }
      assert.ok(events.some((e) => e.name === 'worker_start') && events.some((e) => e.name === 'worker_stop'));
      const commands = taskEvents.map((e) => String(e.fields['command']));
      assert.ok(commands.includes('HF_TOKEN=*** true') && !JSON.stringify(receiver.logs).includes(secret), 'the secret is hidden');

      const points = (name: string): OtlpDataPoint[] =>
        receiver.metrics.filter((m) => m.metric.name === name).flatMap((m) => m.metric.histogram?.dataPoints ?? m.metric.sum?.dataPoints ?? m.metric.gauge?.dataPoints ?? []);
      const durations = points('messaging.process.duration');
      const byOutcome = countBy(attempts, (a) => a.outcome);
      const durationCounts: Record<string, number> = {};
      for (const p of durations) {
        const fields = attributes(p.attributes);
        assert.deepEqual([fields['messaging.system'], fields['messaging.destination.name'], fields['worker_id']], ['jobq', 'metrics', workerId]);
        durationCounts[String(fields['jobq.outcome'])] = Number(p.count);
      }
      assert.deepEqual(durationCounts, byOutcome);
      const tasks = Object.fromEntries(points('jobq.tasks').map((p) => [String(attributes(p.attributes)['jobq.outcome']), Number(p.asInt ?? p.asDouble)]));
      assert.deepEqual(tasks, byOutcome);
      assert.equal(Number(points('jobq.slots')[0]?.asInt ?? points('jobq.slots')[0]?.asDouble), 1);
    } finally {
      await receiver.close();
    }
  });

  it('sends the task events to Azure Monitor with the dimensions', async () => {
    const ingestion = await startAzureMonitorIngestion(home.home);
    try {
      const env = {
        ...home.env,
        APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
        NODE_EXTRA_CA_CERTS: ingestion.caFile,
        JOBQ_ENVIRONMENT_NAME: 'azmon-env',
      };
      await runCli([spec, 'clear', '--yes'], { env });
      await pushRun(env);
      const worker = await runCli([spec, 'worker'], { env });
      assert.equal(worker.code, 0, worker.stderr);
      assert.doesNotMatch(worker.stderr, new RegExp(ingestion.instrumentationKey), 'the connection string is never logged');
      assert.deepEqual(ingestion.refused, []);
      const messages = ingestion.envelopes.filter((e) => e.data?.baseType === 'MessageData');
      const properties = messages.map((e) => e.data?.baseData?.properties ?? {});
      assert.deepEqual(
        countBy(properties.filter((p) => p['event']?.startsWith('task_')), (p) => p['event'] ?? ''),
        { task_start: 5, task_success: 3, task_failure: 2, task_retry: 1, task_give_up: 1 },
      );
      const workerId = properties[0]?.['worker_id'];
      assert.match(workerId ?? '', /-\d+-[0-9a-f]{4}$/);
      for (const [i, p] of properties.entries()) {
        assert.deepEqual([p['queue'], p['worker_id'], p['environment']], ['metrics', workerId, 'azmon-env']);
        assert.equal(messages[i]?.tags?.['ai.cloud.roleInstance'], workerId);
      }
      assert.ok(properties.some((p) => p['command'] === 'HF_TOKEN=*** true'));
      assert.ok(!JSON.stringify(ingestion.envelopes).includes(secret), 'the secret is hidden');
    } finally {
      await ingestion.close();
    }
  });

  it('a worker without metrics flags loads none of the metric or dashboard libraries', async () => {
    const preload = pathToFileURL(path.join(fixturesDir, 'modules', 'log-loads.mjs')).href;
    const loaded = async (extraArgs: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<string> => {
      const log = path.join(home.home, `modules-${extraArgs.length}-${Object.keys(extraEnv).length}.log`);
      const env = { ...home.env, ...extraEnv, NODE_OPTIONS: `--import=${preload}`, JOBQ_MODULE_LOG: log };
      assert.equal((await runCli([spec, 'push', '-c', 'true'], { env })).code, 0);
      const worker = await runCli([spec, 'worker', ...extraArgs], { env });
      assert.equal(worker.code, 0, worker.stderr);
      return readFileSync(log, 'utf8');
    };
    const libraries = /\/node_modules\/(prom-client|@opentelemetry|@azure\/monitor-opentelemetry-exporter|hono|@hono|uplot)\//;
    const plain = await loaded([]);
    assert.match(plain, /\/dist\/src\/api\/worker\.js/, 'the log records what the worker loads');
    assert.doesNotMatch(plain, libraries);
    assert.doesNotMatch(plain, /\/dist\/src\/(metrics\/(telemetry|prometheus|otlp|azure-monitor|event-logs)|dashboard\/)/);
    // The same check can fail: with a flag, the library is loaded.
    assert.match(await loaded(['--metrics-port', '0']), /\/node_modules\/prom-client\//);
    const receiver = await startOtlpReceiver();
    try {
      const otlp = await loaded([], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      assert.match(otlp, /\/node_modules\/@opentelemetry\//);
      assert.doesNotMatch(otlp, /prom-client/);
    } finally {
      await receiver.close();
    }
  });
});
