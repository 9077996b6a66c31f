/**
 * `jobq history` after a real run with successes, a failure retried then
 * dead-lettered, a task killed by a signal, and a task released by SIGINT:
 * every attempt with its outcome, exit code, signal and duration; the
 * filters; and `--format joblog`, read back by a parser that follows GNU
 * parallel's documented --joblog columns. On local/ and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { assertOneErrorLine, runCli, startCli, tempHome } from '../helpers/cli.js';
import { testDatabase } from '../helpers/postgres.js';
import { waitFor } from '../helpers/wait.js';

const db = await testDatabase();
after(() => db.drop());

interface HistoryLine {
  task_id: string;
  outcome: string;
  stop: string | null;
  exit_code: number | null;
  signal: string | null;
  duration_s: number;
  started_at: string;
  command: string;
  worker_id: string;
  host: string;
  error: string | null;
  output: string[] | null;
}

interface JoblogEntry {
  seq: number;
  host: string;
  starttime: number;
  jobRuntime: number;
  send: number;
  receive: number;
  exitval: number;
  signal: number;
  command: string;
}

/**
 * GNU parallel's --joblog (its manual): a header, then one TAB-separated line
 * per job: sequence number, sshlogin, start time as seconds since the epoch,
 * run time in seconds, bytes transferred, bytes returned, exit status,
 * signal, and the command run.
 */
function parseJoblog(text: string): JoblogEntry[] {
  const [header, ...lines] = text.replace(/\n$/, '').split('\n');
  assert.equal(header, 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand');
  return lines.map((line) => {
    const fields = line.split('\t');
    assert.ok(fields.length >= 9, `9 columns: ${JSON.stringify(line)}`);
    const [seq, host, start, runtime, send, receive, exitval, signal] = fields;
    const number = (text: string | undefined, pattern: RegExp): number => {
      assert.match(text ?? '', pattern);
      return Number(text);
    };
    return {
      seq: number(seq, /^\d+$/),
      host: host ?? '',
      starttime: number(start, /^\d+\.\d{3}$/),
      jobRuntime: number(runtime?.trim(), /^\d+\.\d{3}$/),
      send: number(send, /^\d+$/),
      receive: number(receive, /^\d+$/),
      exitval: number(exitval, /^-?\d+$/),
      signal: number(signal, /^\d+$/),
      command: fields.slice(8).join('\t'),
    };
  });
}

/** The suite on the backend of `prefix` (`local`, `pg`), with `extraEnv` to reach it. */
function historySuite(label: string, prefix: string, extraEnv: () => NodeJS.ProcessEnv, skip?: string): void {
  describe(`jobq history after a run with successes, failures, retries and a SIGINT (CLI, ${label})`, { skip }, () => {
    const home = tempHome();
    after(() => home.cleanup());
    const env = { ...home.env, ...extraEnv() };
    const spec = `${prefix}/hist`;

    it('shows every attempt with the right outcome, exit code, signal and duration, as text, JSON and joblog', async () => {
      assert.equal((await runCli([spec, 'push', '-c', 'echo fine-1', '-c', 'sleep 1; echo fine-2', '-c', 'kill -9 $$'], { env })).code, 0);
      assert.equal((await runCli([spec, 'push', '--num-retries', '1', '-c', 'echo about to fail; exit 3'], { env })).code, 0);
      assert.equal((await runCli([spec, 'push', '-c', 'sleep 300 # interrupted'], { env })).code, 0);
      const worker = startCli([spec, 'worker', '-n', '2', '--max-consecutive-failures', '10'], { env });
      const history = async (...args: string[]): Promise<HistoryLine[]> => {
        const result = await runCli([spec, 'history', '--json', ...args], { env });
        assert.equal(result.code, 0, result.stderr);
        return result.stdout.trim() === '' ? [] : result.stdout.trim().split('\n').map((line) => JSON.parse(line) as HistoryLine);
      };
      // Five attempts end on their own (two successes, the kill, the failure and its retry); the sleep then runs.
      await waitFor(async () => (await history()).length === 5 && /started: sleep 300/.test(worker.output), {
        timeoutMs: 60_000,
        message: () => worker.output,
      });
      const interruptedAt = Date.now();
      worker.signal('SIGINT');
      assert.equal((await worker.exited).code, 130);

      const all = await history();
      assert.equal(all.length, 6, JSON.stringify(all, null, 1));
      const by = (command: string) => all.filter((a) => a.command === command);
      const [fine1] = by('echo fine-1');
      const [fine2] = by('sleep 1; echo fine-2');
      const [killed] = by('kill -9 $$');
      const failing = by('echo about to fail; exit 3');
      const [interrupted] = by('sleep 300 # interrupted');
      assert.equal(fine1?.outcome, 'succeeded');
      assert.equal(fine1?.exit_code, 0);
      assert.equal(fine2?.outcome, 'succeeded');
      assert.ok((fine2?.duration_s ?? 0) >= 1 && (fine2?.duration_s ?? 0) < 30, `sleep 1 took ${fine2?.duration_s} s`);
      assert.equal(killed?.outcome, 'dead-lettered');
      assert.equal(killed?.signal, 'SIGKILL');
      assert.equal(killed?.exit_code, null);
      assert.deepEqual(failing.map((a) => [a.outcome, a.exit_code]), [['retried', 3], ['dead-lettered', 3]]);
      assert.deepEqual(failing[1]?.output, ['about to fail'], 'the last lines of a failure');
      assert.equal(failing[0]?.task_id, failing[1]?.task_id, 'a retry keeps its id');
      assert.equal(interrupted?.outcome, 'released');
      assert.equal(interrupted?.stop, 'SIGINT');
      assert.ok(Math.abs(Date.parse(interrupted?.started_at ?? '') + (interrupted?.duration_s ?? 0) * 1000 - interruptedAt) < 30_000);
      assert.equal(new Set(all.map((a) => a.worker_id)).size, 1);

      // Filters.
      assert.equal((await history('--failed')).length, 3);
      assert.ok((await history('--failed')).every((a) => a.outcome === 'retried' || a.outcome === 'dead-lettered'));
      assert.deepEqual((await history('--task', failing[0]?.task_id ?? '')).map((a) => a.outcome), ['retried', 'dead-lettered']);
      assert.equal((await history('--worker', fine1?.worker_id ?? '')).length, 6);
      assert.equal((await history('--worker', 'nobody')).length, 0);
      assert.equal((await history('--since', '1h')).length, 6);
      assert.deepEqual((await history('-n', '2')).map((a) => a.command), all.slice(-2).map((a) => a.command));

      // The table for people.
      const text = await runCli([spec, 'history'], { env });
      assert.match(text.stdout, /^ENDED\s+TASK\s+OUTCOME\s+EXIT\s+SIGNAL\s+DURATION\s+WORKER\s+COMMAND$/m);
      assert.match(text.stdout, /released \(SIGINT\)/);
      assert.match(text.stdout, /dead-lettered\s+-\s+SIGKILL/);

      // GNU parallel's joblog, read back.
      const joblog = await runCli([spec, 'history', '--format', 'joblog'], { env });
      assert.equal(joblog.code, 0, joblog.stderr);
      const entries = parseJoblog(joblog.stdout);
      assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(entries.map((e) => e.command), all.map((a) => a.command));
      for (const [i, entry] of entries.entries()) {
        const a = all[i];
        assert.ok(a);
        assert.equal(entry.host, a.host);
        assert.equal(entry.send, 0);
        assert.equal(entry.receive, 0);
        assert.ok(Math.abs(entry.starttime * 1000 - Date.parse(a.started_at)) < 1, 'Starttime is the start, in epoch seconds');
        assert.ok(Math.abs(entry.jobRuntime - a.duration_s) < 0.002);
      }
      const entry = (command: string) => entries.find((e) => e.command === command);
      assert.deepEqual([entry('echo fine-1')?.exitval, entry('echo fine-1')?.signal], [0, 0]);
      assert.deepEqual([entry('kill -9 $$')?.exitval, entry('kill -9 $$')?.signal], [0, 9]);
      assert.deepEqual(entries.filter((e) => e.command === 'echo about to fail; exit 3').map((e) => e.exitval), [3, 3]);
      assert.ok((entry('sleep 1; echo fine-2')?.jobRuntime ?? 0) >= 1);
      // Failed jobs, as a joblog script finds them (a non-zero Exitval or Signal).
      assert.equal(entries.filter((e) => e.exitval !== 0 || e.signal !== 0).length, 4);
    });

    it('refuses bad filters and bad retention settings in one line (exit 2)', async () => {
      assertOneErrorLine(await runCli([spec, 'history', '--since', 'yesterday'], { env }), 2, /invalid --since "yesterday"/);
      assertOneErrorLine(await runCli([spec, 'history', '--format', 'csv'], { env }), 2, /format/);
      const bad = await runCli([spec, 'worker'], { env: { ...env, JOBQ_HISTORY_MAX_ATTEMPTS: 'lots' } });
      assertOneErrorLine(bad, 2, /invalid JOBQ_HISTORY_MAX_ATTEMPTS "lots"/);
      const badFlag = await runCli([spec, 'worker', '--history-retention', '10s'], { env });
      assertOneErrorLine(badFlag, 2, /--history-retention/);
    });

    it('--no-history (or JOBQ_HISTORY=0) records nothing', async () => {
      const quiet = `${prefix}/quiet`;
      assert.equal((await runCli([quiet, 'push', '-c', 'true', '-c', 'echo x'], { env })).code, 0);
      assert.equal((await runCli([quiet, 'worker', '--no-history'], { env })).code, 0);
      assert.equal((await runCli([quiet, 'push', '-c', 'echo y'], { env })).code, 0);
      assert.equal((await runCli([quiet, 'worker'], { env: { ...env, JOBQ_HISTORY: '0' } })).code, 0);
      assert.equal((await runCli([quiet, 'size'], { env })).stdout.trim(), '0');
      const result = await runCli([quiet, 'history', '--json'], { env });
      assert.equal(result.stdout, '');
    });
  });
}

historySuite('local/', 'local', () => ({}));
historySuite('PostgreSQL', 'pg', () => ({ JOBQ_DATABASE_URL: db.url }), db.skip);
