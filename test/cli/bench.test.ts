import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';

const db = await testDatabase();
after(() => db.drop());

interface Run {
  kind: string;
  concurrency: number;
  tasks: number;
  enqueuePerSecond: number;
  tasksPerSecond: number;
  latencyMs: { p50: number; p99: number };
  peakRssBytes: number;
}

interface Report {
  backend: string;
  queue: string;
  machine: { cpus: number; platform: string; loadAverage: number[] };
  runs: Run[];
  recommended: Record<string, number>;
}

/** Checks the report's shape, and that each kind's recommendation is its run with the most tasks/s. */
function checkReport(stdout: string, tasks: number): Report {
  const report = JSON.parse(stdout) as Report;
  assert.equal(typeof report.backend, 'string');
  assert.ok(report.machine.cpus >= 1);
  assert.equal(report.machine.loadAverage.length, 3);
  assert.deepEqual(
    report.runs.map((run) => `${run.kind}@${run.concurrency}`),
    ['shell@1', 'shell@2', 'function@1', 'function@2'],
  );
  for (const run of report.runs) {
    assert.equal(run.tasks, tasks);
    for (const value of [run.enqueuePerSecond, run.tasksPerSecond, run.latencyMs.p50, run.latencyMs.p99, run.peakRssBytes]) {
      assert.ok(Number.isFinite(value) && value > 0, `${run.kind}@${run.concurrency}: ${JSON.stringify(run)}`);
    }
    assert.ok(run.latencyMs.p50 <= run.latencyMs.p99);
  }
  for (const kind of ['shell', 'function']) {
    const runs = report.runs.filter((run) => run.kind === kind);
    const best = runs.reduce((a, b) => (b.tasksPerSecond > a.tasksPerSecond ? b : a));
    assert.equal(report.recommended[kind], best.concurrency, `${kind}: ${JSON.stringify(runs)}`);
  }
  return report;
}

describe('jobq bench (CLI)', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  it('measures a local queue at each concurrency, recommends the fastest, and leaves the queue empty', async () => {
    const result = await runCli(['local/benchq', 'bench', '--tasks', '50', '--concurrency', '2,1', '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    const report = checkReport(result.stdout, 50);
    assert.equal(report.queue, 'benchq');
    assert.equal((await runCli(['local/benchq', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['local/benchq', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });

  it('without a spec runs on a throw-away local queue and removes it', async () => {
    const tmp = path.join(home.home, 'tmp');
    mkdirSync(tmp);
    const result = await runCli(['bench', '--tasks', '20', '--concurrency', '1', '--kind', 'shell'], { env: { ...env, TMPDIR: tmp } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^jobq bench on local:.*jobq-bench-/);
    assert.match(result.stdout, /^shell\s+1\s+20\s/m);
    assert.match(result.stdout, /recommended \(most tasks\/s measured\): shell tasks: --num-workers 1 \(\d+ tasks\/s\)/);
    assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('jobq-bench-')), []);
  });

  it('refuses a queue that holds tasks, and leaves them alone', async () => {
    assert.equal((await runCli(['local/busy', 'push', '-c', 'echo keep me'], { env })).code, 0);
    const result = await runCli(['local/busy', 'bench', '--tasks', '5'], { env });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /busy holds 1 task\(s\) and 0 dead letter\(s\): jobq bench .* needs an empty queue/);
    assert.equal((await runCli(['local/busy', 'size'], { env })).stdout.trim(), '1');
  });

  it('rejects a --concurrency that is not a list of worker counts (exit 2)', async () => {
    const result = await runCli(['local/benchq', 'bench', '--concurrency', '1,x'], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--concurrency: "x" is not a worker count/);
  });
});

describe('jobq bench on Azurite (CLI)', () => {
  let azurite: Azurite;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite.stop());

  it('measures an Azure queue and leaves it empty', async () => {
    const env = { JOBQ_CONNECTION_STRING: azurite.connectionString };
    const result = await runCli(['x/benchq', 'bench', '--tasks', '20', '--concurrency', '1,2', '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(checkReport(result.stdout, 20).backend, /^azure:http:\/\/127\.0\.0\.1:/);
    assert.equal((await runCli(['x/benchq', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['x/benchq', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });
});

describe('jobq bench on PostgreSQL (CLI)', { skip: db.skip }, () => {
  it('measures a PostgreSQL queue and leaves it empty', async () => {
    const env = { JOBQ_DATABASE_URL: db.url };
    const result = await runCli(['pg/benchq', 'bench', '--tasks', '50', '--concurrency', '1,2', '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(checkReport(result.stdout, 50).backend, /^postgres:\/\/postgres@127\.0\.0\.1:5432\/jobq_t_\w+\?schema=jobq$/);
    assert.equal((await runCli(['pg/benchq', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['pg/benchq', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });
});
