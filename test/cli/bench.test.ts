import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { runCli, startCli, tempHome } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';

const db = await testDatabase();
after(() => db.drop());

interface Run {
  kind: string;
  concurrency: number;
  repeat: number;
  tasks: number;
  enqueuePerSecond: number;
  tasksPerSecond: number;
  latencyMs: { p50: number; p99: number };
  peakRssBytes: number;
}

interface Summary {
  kind: string;
  concurrency: number;
  runs: number;
  tasksPerSecond: { median: number; min: number; max: number };
}

interface Report {
  backend: string;
  queue: string;
  machine: { cpus: number; platform: string; loadAverage: { start: number; end: number } };
  warnings: string[];
  runs: Run[];
  summaries: Summary[];
  recommended: Record<string, { concurrency: number; fastest: number }>;
  interrupted: boolean;
}

/**
 * Checks the report's shape; that the rounds were interleaved; that each
 * summary spans its runs; that each kind's recommendation is the fewest
 * workers whose fastest run reaches the slowest run of the concurrency with
 * the best median; and that a busy machine is warned about.
 */
function checkReport(stdout: string, tasks: number, repeats: number): Report {
  const report = JSON.parse(stdout) as Report;
  assert.equal(typeof report.backend, 'string');
  assert.ok(report.machine.cpus >= 1);
  assert.equal(report.interrupted, false);
  const round = ['shell@1', 'shell@2', 'function@1', 'function@2'];
  assert.deepEqual(
    report.runs.map((run) => `${run.kind}@${run.concurrency}`),
    Array.from({ length: repeats }, () => round).flat(),
  );
  for (const run of report.runs) {
    assert.equal(run.tasks, tasks);
    for (const value of [run.enqueuePerSecond, run.tasksPerSecond, run.latencyMs.p50, run.latencyMs.p99, run.peakRssBytes]) {
      assert.ok(Number.isFinite(value) && value > 0, `${run.kind}@${run.concurrency}: ${JSON.stringify(run)}`);
    }
    assert.ok(run.latencyMs.p50 <= run.latencyMs.p99);
  }
  for (const summary of report.summaries) {
    const rates = report.runs.filter((run) => run.kind === summary.kind && run.concurrency === summary.concurrency).map((run) => run.tasksPerSecond);
    assert.equal(summary.runs, repeats);
    assert.equal(summary.tasksPerSecond.min, Math.min(...rates));
    assert.equal(summary.tasksPerSecond.max, Math.max(...rates));
  }
  for (const kind of ['shell', 'function']) {
    const ofKind = report.summaries.filter((summary) => summary.kind === kind).sort((a, b) => a.concurrency - b.concurrency);
    const fastest = ofKind.reduce((a, b) => (b.tasksPerSecond.median > a.tasksPerSecond.median ? b : a));
    const enough = ofKind.find((summary) => summary.tasksPerSecond.max >= fastest.tasksPerSecond.min);
    assert.deepEqual(report.recommended[kind], { concurrency: enough?.concurrency, fastest: fastest.concurrency }, JSON.stringify(ofKind));
  }
  const busy = Math.max(report.machine.loadAverage.start, report.machine.loadAverage.end) > report.machine.cpus;
  assert.equal(report.warnings.length, busy ? 1 : 0, JSON.stringify(report.machine));
  return report;
}

describe('jobq bench (CLI)', () => {
  const home = tempHome();
  const env = home.env;
  after(() => home.cleanup());

  it('measures a local queue at each concurrency, repeated, recommends within the noise, and leaves the queue empty', async () => {
    const result = await runCli(['local/benchq', 'bench', '--tasks', '50', '--concurrency', '2,1', '--repeat', '2', '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    const report = checkReport(result.stdout, 50, 2);
    assert.equal(report.queue, 'benchq');
    assert.equal((await runCli(['local/benchq', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['local/benchq', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });

  it('without a spec runs on a throw-away local queue and removes it; the table says what its columns measure', async () => {
    const tmp = path.join(home.home, 'tmp');
    mkdirSync(tmp);
    const result = await runCli(['bench', '--tasks', '20', '--concurrency', '1', '--kind', 'shell', '--repeat', '1'], { env: { ...env, TMPDIR: tmp } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^jobq bench on local:.*jobq-bench-/);
    assert.match(result.stdout, /^kind +workers +runs +tasks\/s +slowest-fastest +enqueue\/s +lease-to-settle p50 ms +p99 ms +RSS MiB$/m);
    assert.match(result.stdout, /^shell\s+1\s+1\s/m);
    assert.match(result.stdout, /lease-to-settle: per task, from the return of the lease call to the return of the settle call/);
    assert.match(result.stdout, /recommended .*: shell tasks: --num-workers 1 \([\d,]+ tasks\/s; the fastest, one run each/);
    assert.deepEqual(readdirSync(tmp).filter((name) => name.startsWith('jobq-bench-')), []);
  });

  it('Ctrl-C stops it: it prints the runs measured, removes its folder and exits 130', async () => {
    const tmp = path.join(home.home, 'tmp-interrupted');
    mkdirSync(tmp);
    const bench = startCli(['bench', '--kind', 'shell', '--concurrency', '1', '--tasks', '100', '--repeat', '50'], { env: { ...env, TMPDIR: tmp } });
    await bench.waitForOutput(/bench: run 2 of 50/, 120_000);
    bench.signal('SIGINT');
    const exit = await bench.exited;
    assert.equal(exit.code, 130, exit.stderr);
    const measured = Number(/interrupted: (\d+) run\(s\) measured before Ctrl-C/.exec(exit.stdout)?.[1]);
    assert.ok(measured >= 2 && measured < 50, exit.stdout);
    assert.match(exit.stdout, new RegExp(`^shell\\s+1\\s+${measured}\\s`, 'm'));
    assert.ok(existsSync(tmp));
    assert.deepEqual(readdirSync(tmp), [], 'the temp folder is gone');
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
    const result = await runCli(['x/benchq', 'bench', '--tasks', '20', '--concurrency', '1,2', '--repeat', '1', '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(checkReport(result.stdout, 20, 1).backend, /^azure:http:\/\/127\.0\.0\.1:/);
    assert.equal((await runCli(['x/benchq', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['x/benchq', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });
});

describe('jobq bench on PostgreSQL (CLI)', { skip: db.skip }, () => {
  it('measures a PostgreSQL queue and leaves it empty', async () => {
    const env = { JOBQ_DATABASE_URL: db.url };
    const result = await runCli(['pg/benchq', 'bench', '--tasks', '50', '--concurrency', '1,2', '--repeat', '1', '--json'], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(checkReport(result.stdout, 50, 1).backend, /^postgres:\/\/postgres@127\.0\.0\.1:5432\/jobq_t_\w+\?schema=jobq$/);
    assert.equal((await runCli(['pg/benchq', 'size'], { env })).stdout.trim(), '0');
    assert.equal((await runCli(['pg/benchq', 'dlq', 'list', '--json'], { env })).stdout.trim(), '');
  });
});
