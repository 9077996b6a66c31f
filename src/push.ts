/**
 * Turning user input into tasks, and enqueueing many of them (SPEC §5 push).
 * Input is validated whole before anything is sent: a bad line rejects the
 * push, naming its line number.
 */
import { UsageError, isJobqError, errorMessage } from './errors.js';
import type { JobQueue } from './queue/job-queue.js';
import { createTask, type Kwargs, type NewTaskOptions, type Task } from './task/task.js';

/** The kwargs of a shell task exactly as the reference CLI writes them (so ids match). */
export function shellTaskKwargs(cmd: string, env: Readonly<Record<string, string>> = {}): Kwargs {
  return { cmd, bg_dirsync_to: null, env: { ...env } };
}

/** Parses `KEY=VAL` pairs (push -e). */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid environment variable "${pair}": expected KEY=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/**
 * One task's kwargs per non-empty line: a line starting with `{` is a JSON
 * object of kwargs (env from -e merged into its `env`), any other a shell command.
 */
export function kwargsFromLines(
  lines: Iterable<string>,
  env: Readonly<Record<string, string>> = {},
): Array<{ kwargs: Kwargs; line: number }> {
  const result: Array<{ kwargs: Kwargs; line: number }> = [];
  const hasEnv = Object.keys(env).length > 0;
  let lineNumber = 0;
  for (const raw of lines) {
    lineNumber += 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('{')) {
      result.push({ kwargs: shellTaskKwargs(line, env), line: lineNumber });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (err) {
      throw new UsageError(`line ${lineNumber}: not valid JSON (${errorMessage(err)})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UsageError(`line ${lineNumber}: a JSON task must be an object of kwargs`);
    }
    const kwargs = value as Kwargs;
    if (hasEnv) {
      const own = kwargs['env'];
      if (own !== undefined && (typeof own !== 'object' || own === null || Array.isArray(own))) {
        throw new UsageError(`line ${lineNumber}: "env" must be an object to add -e variables to it`);
      }
      kwargs['env'] = { ...(own as Record<string, unknown> | undefined), ...env };
    }
    result.push({ kwargs, line: lineNumber });
  }
  return result;
}

/** A task and its message body for `kwargs`, or a UsageError that names it by `label` (a position, a line). */
export function encodeTask(queue: JobQueue, kwargs: Kwargs, options: NewTaskOptions, label: () => string): { task: Task; body: string } {
  try {
    const task = createTask(kwargs, options);
    return { task, body: queue.encode(task) };
  } catch (err) {
    if (isJobqError(err)) throw new UsageError(`${label()}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Tasks and their message bodies for every kwargs, or a UsageError naming the first bad one (1-based). */
export function prepareTasks(
  queue: JobQueue,
  kwargsList: readonly Kwargs[],
  options: NewTaskOptions = {},
  describe: (index: number) => string = (index) => `task ${index + 1}`,
): { tasks: Task[]; bodies: string[] } {
  const tasks: Task[] = [];
  const bodies: string[] = [];
  for (const [index, kwargs] of kwargsList.entries()) {
    const encoded = encodeTask(queue, kwargs, options, () => describe(index));
    tasks.push(encoded.task);
    bodies.push(encoded.body);
  }
  return { tasks, bodies };
}

export interface PushManyOptions {
  /** Batches in flight at once (default 10). */
  concurrency?: number;
  /** Messages per backend call (default 100). */
  batchSize?: number;
  /** Called after each batch with the number enqueued so far. */
  onProgress?: (enqueued: number) => void;
}

/** Enqueues message bodies in batches, `concurrency` batches at a time. */
export async function pushBodies(queue: JobQueue, bodies: readonly string[], options: PushManyOptions = {}): Promise<void> {
  const batchSize = options.batchSize ?? 100;
  const concurrency = Math.max(1, options.concurrency ?? 10);
  let next = 0;
  let enqueued = 0;
  const lane = async (): Promise<void> => {
    while (next < bodies.length) {
      const batch = bodies.slice(next, next + batchSize);
      next += batch.length;
      await queue.pushBodies(batch);
      enqueued += batch.length;
      options.onProgress?.(enqueued);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}
