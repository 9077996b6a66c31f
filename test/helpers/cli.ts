/**
 * Runs the real CLI (bin/run.js) as a subprocess, as a user would, with its
 * own JOBQ_HOME so that tests never share a queue database.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath } from './paths.js';
import { killWithEnv } from './processes.js';
import { waitFor } from './wait.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed (default: closed at once). */
  input?: string | Buffer;
  /** Leave stdin open for the test to write to (`child.stdin`); `input` is ignored. */
  keepStdinOpen?: boolean;
  cwd?: string;
}

/**
 * A temporary JOBQ_HOME. `cleanup` SIGKILLs whatever still runs with it in its
 * environment (workers, and the tasks that inherit their environment), then
 * removes the folder.
 */
export function tempHome(): { home: string; env: NodeJS.ProcessEnv; cleanup(): void } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'jobq-test-'));
  return {
    home,
    env: { JOBQ_HOME: home, JOBQ_PID_DIR: path.join(home, 'pids') },
    cleanup: () => {
      killWithEnv('JOBQ_HOME', home);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A CLI process that is still running, with its output collected as it comes. */
export class CliProcess {
  stdout = '';
  stderr = '';
  private combined = '';
  readonly exited: Promise<CliResult>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.combined += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.combined += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  /** stdout and stderr together, in the order they arrived (tasks' output is on stdout, jobq's lines on stderr). */
  get output(): string {
    return this.combined;
  }

  /** Waits until the combined output matches, or fails after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    await waitFor(() => pattern.test(this.output), {
      timeoutMs,
      message: () => `output never matched ${pattern}:\n${this.output}`,
    });
  }

  /** Counts the matches of a global pattern in the combined output. */
  count(pattern: RegExp): number {
    return this.output.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g'))?.length ?? 0;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Its exit; one that has not come within `timeoutMs` is SIGKILLed and fails the test with `failure()`. */
  async exitedWithin(timeoutMs: number, failure: () => string): Promise<CliResult> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const result = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (result !== 'late') return result;
    this.signal('SIGKILL');
    await this.exited;
    return assert.fail(failure());
  }
}

export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: { ...process.env, JOBQ_LOG_LEVEL: undefined, JOBQ_QUEUE: undefined, JOBQ_STORAGE: undefined, JOBQ_STORAGE_QUEUE: undefined, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (options.keepStdinOpen) return new CliProcess(child);
  // A child that exits before reading all its input must fail the test by its exit, not by an EPIPE here.
  child.stdin?.on('error', () => {});
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  return new CliProcess(child);
}

export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).exited;
}

/** A command line the CLI must reject: `pattern` matches its one error line. */
export interface BadInputCase {
  name: string;
  args: string[];
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  pattern: RegExp;
}

/** Exactly one line on stderr, `jobq: error: …` matching `pattern`, no stack trace, and the exit code. */
export function assertOneErrorLine(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${result.stderr}`);
  assert.match(lines[0] ?? '', /^jobq: error: /);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack trace');
}
