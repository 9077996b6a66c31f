/**
 * Enqueueing many tasks (SPEC §5 push, and the API's pushTasks): one pipeline
 * for every source. Input is streamed, never held whole, and a bad task
 * (malformed, too large for the backend, a command no shell could run) means
 * nothing is enqueued, with an error naming where it came from:
 *
 * - On a backend with atomic pushes (local/, PostgreSQL) the tasks are checked
 *   as they stream in and added to one push that is committed at the end: all
 *   or nothing, also on a full disk or an interrupt.
 * - Elsewhere (Azure) a first pass checks every task and spools its message to
 *   a temporary file; a second sends them, `concurrency` at a time. If that
 *   stops part way (a failure, an interrupt), the error says exactly how many
 *   were enqueued and which input to push again from.
 *
 * An abort (the CLI's SIGINT or SIGTERM) stops either pass at once.
 */
import { CONTROL_SUFFIX, DEAD_LETTER_SUFFIX } from './backends/spec.js';
import type { AtomicPush } from './backends/backend.js';
import { BackendError, PushIncompleteError, UsageError, errorMessage, hasCode, isJobqError } from './errors.js';
import { Spool, type SpooledMessage } from './push/spool.js';
import { pythonDumps } from './task/python-json.js';
import { createTaskFromKwargsJson, type Kwargs, type NewTaskOptions, type Task } from './task/task.js';

/** One task to push. */
export interface PushItem {
  /** Where it came from, for messages: `line 12`, `-c number 2`, `task 3`. */
  readonly origin: string;
  /** The input line it came from (1-based), if it came from lines: where `tail -n +N` resumes. */
  readonly line?: number;
  /** Its kwargs as JSON text in the reference's form; throws a JobqError for input that is no task. */
  kwargsJson(): string;
}

/** What the pipeline needs of a queue. */
export interface PushTarget {
  readonly name: string;
  /** The message body of a task; throws TaskTooLargeError when the backend cannot hold it. */
  encode(task: Task): string;
  /** Appends messages, visible at once. */
  send(bodies: readonly string[]): Promise<void>;
  /** An all-or-nothing push, where the backend has one (undefined where it has none). */
  beginPush?(): Promise<AtomicPush | undefined>;
}

/** The most sends in flight at once that `concurrency` (`push --num-workers`) may ask for. */
export const MAX_PUSH_CONCURRENCY = 256;

export interface PushProgress {
  /** `checking` while tasks are read and checked; `sending` while a spooled push sends them. */
  readonly phase: 'checking' | 'sending';
  readonly done: number;
  /** Known while sending. */
  readonly total?: number;
}

export interface PushOptions extends NewTaskOptions {
  /** Sends in flight at once on a backend without atomic pushes (default 10, 1 to MAX_PUSH_CONCURRENCY). */
  concurrency?: number;
  /** Stops the push; what was done is reported by a PushIncompleteError (default: none). */
  signal?: AbortSignal;
  /** Called as tasks are checked and sent (default: none). */
  onProgress?: (progress: PushProgress) => void;
  /** Called with each task once it is checked, before anything is enqueued (default: none). */
  onTask?: (task: Task) => void;
  /** Whether to push a checked task; false skips it (`push --skip-done`, `--skip-queued`; default: every task). */
  keep?: (task: Task) => boolean;
}

const atomicChunk = 1000;
const progressEvery = 1000;

/** Refuses the companion queues as push targets: tasks pushed there would never run as tasks. */
export function assertPushTarget(name: string): void {
  for (const [suffix, what] of [
    [DEAD_LETTER_SUFFIX, 'dead-letter queue'],
    [CONTROL_SUFFIX, 'control queue'],
  ] as const) {
    if (name.endsWith(suffix)) {
      throw new UsageError(
        `${name} is the ${what} of ${name.slice(0, -suffix.length)}: push to ${name.slice(0, -suffix.length)} instead` +
          (suffix === DEAD_LETTER_SUFFIX ? ' (or put failed tasks back with `dlq requeue`)' : ''),
      );
    }
  }
}

function resolveConcurrency(concurrency: number | undefined): number {
  const value = concurrency ?? 10;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_PUSH_CONCURRENCY) {
    throw new UsageError(`concurrency must be an integer from 1 to ${MAX_PUSH_CONCURRENCY}, got ${value}`);
  }
  return value;
}

/** The task of an item and its message body, or a UsageError naming the item's origin. */
function prepare(target: PushTarget, item: PushItem, options: PushOptions): { task: Task; body: string } {
  try {
    const task = createTaskFromKwargsJson(item.kwargsJson(), options);
    return { task, body: target.encode(task) };
  } catch (err) {
    if (isJobqError(err)) throw new UsageError(`${item.origin}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Pushes every item, or (see the top of this file) none; returns how many were enqueued. */
export async function pushItems(
  target: PushTarget,
  items: Iterable<PushItem> | AsyncIterable<PushItem>,
  options: PushOptions = {},
): Promise<number> {
  assertPushTarget(target.name);
  const concurrency = resolveConcurrency(options.concurrency);
  if (options.signal?.aborted) throw interrupted(target.name, 'before it started', options.signal);
  const atomic = await target.beginPush?.();
  return atomic ? pushAtomically(target, atomic, items, options) : pushSpooled(target, items, concurrency, options);
}

/** The error of a push stopped by its abort signal before anything was enqueued; its cause is the signal's reason. */
function interrupted(name: string, what: string, signal: AbortSignal): PushIncompleteError {
  return new PushIncompleteError(
    `push to ${name} interrupted ${what}: nothing was enqueued`,
    { enqueued: 0, total: undefined, resumeFrom: undefined, enqueuedAfterResume: [], interrupted: true },
    { cause: signal.reason as unknown },
  );
}

async function pushAtomically(
  target: PushTarget,
  push: AtomicPush,
  items: Iterable<PushItem> | AsyncIterable<PushItem>,
  options: PushOptions,
): Promise<number> {
  let count = 0;
  try {
    let chunk: string[] = [];
    for await (const item of items) {
      if (options.signal?.aborted) break;
      const { task, body } = prepare(target, item, options);
      if (options.keep && !options.keep(task)) continue;
      options.onTask?.(task);
      chunk.push(body);
      count += 1;
      if (count % progressEvery === 0) options.onProgress?.({ phase: 'checking', done: count });
      if (chunk.length >= atomicChunk) {
        await push.add(chunk);
        chunk = [];
      }
    }
    if (options.signal?.aborted) throw interrupted(target.name, `after ${count} task(s) were read`, options.signal);
    await push.add(chunk);
    await push.commit();
  } catch (err) {
    await push.abort().catch(() => {});
    if (hasCode(err, 'BACKEND') && (err as BackendError).outcomeUnknown) {
      throw new BackendError(
        `push to ${target.name} lost its connection while committing ${count} task(s): whether they were enqueued is ` +
          `unknown; look (jobq ${target.name} size, or peek) before pushing again, or push again with --skip-queued`,
        { cause: err },
      );
    }
    if (hasCode(err, 'BACKEND')) {
      throw new BackendError(`push to ${target.name} failed, nothing was enqueued: ${errorMessage(err)}`, { cause: err });
    }
    throw err;
  }
  options.onProgress?.({ phase: 'checking', done: count });
  return count;
}

async function pushSpooled(
  target: PushTarget,
  items: Iterable<PushItem> | AsyncIterable<PushItem>,
  concurrency: number,
  options: PushOptions,
): Promise<number> {
  const spool = await Spool.create();
  try {
    for await (const item of items) {
      if (options.signal?.aborted) break;
      const { task, body } = prepare(target, item, options);
      if (options.keep && !options.keep(task)) continue;
      options.onTask?.(task);
      await spool.append(item, body);
      if (spool.size % progressEvery === 0) options.onProgress?.({ phase: 'checking', done: spool.size });
    }
    if (options.signal?.aborted) {
      throw interrupted(target.name, `while its input was checked (${spool.size} task(s) read)`, options.signal);
    }
    await spool.finish();
    return await sendSpooled(target, spool, concurrency, options);
  } finally {
    await spool.dispose();
  }
}

/**
 * Sends the spooled messages, `concurrency` at a time, one per call so that
 * exactly what was enqueued is known. On a failure or an abort no new send
 * starts; those under way finish; then the error names the first message not
 * enqueued and those after it that were.
 */
async function sendSpooled(target: PushTarget, spool: Spool, concurrency: number, options: PushOptions): Promise<number> {
  const total = spool.size;
  const source = spool.messages();
  let failure: unknown;
  let enqueued = 0;
  /** Every message before this index is enqueued. */
  let prefix = 0;
  /** Enqueued messages past `prefix`, by index (at most `concurrency` of them). */
  const ahead = new Map<number, SpooledMessage>();
  /** Messages taken from the spool but not enqueued (failed, or read after the stop), by index. */
  const notSent = new Map<number, SpooledMessage>();
  const stopped = (): boolean => failure !== undefined || options.signal?.aborted === true;
  const lane = async (): Promise<void> => {
    while (!stopped()) {
      const next = await source.next();
      if (next.done) return;
      const message = next.value;
      if (stopped()) {
        notSent.set(message.index, message);
        return;
      }
      try {
        await target.send([message.body]);
      } catch (err) {
        failure ??= err;
        notSent.set(message.index, message);
        continue;
      }
      enqueued += 1;
      ahead.set(message.index, message);
      while (ahead.delete(prefix)) prefix += 1;
      if (enqueued % progressEvery === 0 || enqueued === total) options.onProgress?.({ phase: 'sending', done: enqueued, total });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, total)) }, lane));
    if (enqueued === total) return total;
    const resume = notSent.get(prefix) ?? (await nextMessage(source));
    const after = [...ahead.values()].sort((a, b) => a.index - b.index).map((message) => message.origin);
    const cause = failure === undefined ? 'interrupted' : `failed (${errorMessage(failure)})`;
    const details = { enqueued, total, resumeFrom: resume?.origin, enqueuedAfterResume: after, interrupted: failure === undefined };
    throw new PushIncompleteError(incompleteMessage(target.name, cause, details, resume?.line), details, {
      cause: failure ?? (options.signal?.reason as unknown),
    });
  } finally {
    await source.return(undefined);
  }
}

async function nextMessage(source: AsyncGenerator<SpooledMessage>): Promise<SpooledMessage | undefined> {
  const next = await source.next();
  return next.done ? undefined : next.value;
}

function incompleteMessage(name: string, cause: string, details: PushIncompleteError['details'], line: number | undefined): string {
  const { enqueued, total, resumeFrom, enqueuedAfterResume: after } = details;
  const resume =
    resumeFrom === undefined ? '' : `; push again from ${resumeFrom}` + (line === undefined ? '' : ` (tail -n +${line} of the input)`);
  const listed = after.length > 10 ? `${after.slice(0, 10).join(', ')} and ${after.length - 10} more` : after.join(', ');
  const skip = after.length === 0 ? '' : `, skipping ${listed}, which ${after.length === 1 ? 'is' : 'are'} enqueued already`;
  return `push to ${name} ${cause}: ${enqueued} of ${total} task(s) were enqueued${resume}${skip}`;
}

/** The kwargs of a shell task exactly as the reference CLI writes them (so ids match). */
export function shellTaskKwargs(cmd: string, env: Readonly<Record<string, string>> = {}): Kwargs {
  return { cmd, bg_dirsync_to: null, env: { ...env } };
}

/** Items for kwargs given as JavaScript objects (the API): `task N`, 1-based. */
export async function* kwargsItems(source: Iterable<Kwargs> | AsyncIterable<Kwargs>): AsyncGenerator<PushItem> {
  let position = 0;
  for await (const kwargs of source) {
    position += 1;
    yield { origin: `task ${position}`, kwargsJson: () => kwargsText(kwargs) };
  }
}

function kwargsText(kwargs: Kwargs): string {
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) {
    throw new UsageError('kwargs must be a JSON object');
  }
  try {
    return pythonDumps(kwargs);
  } catch (err) {
    throw new UsageError(`kwargs are not JSON: ${errorMessage(err)}`, { cause: err });
  }
}

export interface PushKwargsOptions extends PushOptions {
  /**
   * Skips a task whose work is already done (the reference's work
   * specification): called for every kwargs; a true answer skips it.
   */
  alreadyDone?: (kwargs: Kwargs) => boolean | Promise<boolean>;
}

export interface PushSummary {
  pushed: number;
  skipped: number;
  /** The ids of the tasks pushed, in order. */
  taskIds: string[];
}

/** The API's push of many kwargs (`pushTasks`): the pipeline above, with `alreadyDone` and the ids. */
export async function pushKwargs(
  target: PushTarget,
  source: Iterable<Kwargs> | AsyncIterable<Kwargs>,
  options: PushKwargsOptions = {},
): Promise<PushSummary> {
  const { alreadyDone, ...pushOptions } = options;
  const summary: PushSummary = { pushed: 0, skipped: 0, taskIds: [] };
  async function* wanted(): AsyncGenerator<Kwargs> {
    for await (const kwargs of source) {
      if (alreadyDone && (await alreadyDone(kwargs))) summary.skipped += 1;
      else yield kwargs;
    }
  }
  summary.pushed = await pushItems(target, kwargsItems(wanted()), {
    ...pushOptions,
    onTask: (task) => {
      summary.taskIds.push(task.id);
      options.onTask?.(task);
    },
  });
  return summary;
}
