/**
 * A task queue on top of a backend: turns tasks into message bodies and back,
 * enforces the backend's size limit at push, and implements the settle
 * operations of SPEC §6 (complete, retry, release, dead-letter) and the
 * dead-letter queue `NAME-failed`.
 */
import os from 'node:os';
import type { Backend, Lease, PeekedMessage, QueueStore } from './backends/backend.js';
import { openBackend } from './backends/open.js';
import { CONTROL_SUFFIX, DEAD_LETTER_SUFFIX, parseSpec, type QueueTarget, type SpecEnvironment } from './backends/spec.js';
import { InvalidTaskError, TaskTooLargeError, UsageError, errorMessage, hasCode } from './errors.js';
import { sleep } from './worker/sleep.js';
import { parseTask, serializeTask, withRetries, type Task } from './task/task.js';

/** A leased message: a task, or a body that is not a valid task (with the reason). */
export type LeasedMessage =
  | { readonly lease: Lease; readonly task: Task; readonly invalid?: undefined }
  | { readonly lease: Lease; readonly task?: undefined; readonly invalid: InvalidTaskError };

export type PeekedTask =
  | { readonly message: PeekedMessage; readonly task: Task; readonly invalid?: undefined }
  | { readonly message: PeekedMessage; readonly task?: undefined; readonly invalid: InvalidTaskError };

function decode(
  body: string,
  bodyError?: string,
): { task: Task; invalid?: undefined } | { task?: undefined; invalid: InvalidTaskError } {
  if (bodyError !== undefined) return { invalid: new InvalidTaskError(bodyError) };
  try {
    return { task: parseTask(body) };
  } catch (err) {
    if (hasCode(err, 'INVALID_TASK')) return { invalid: err as InvalidTaskError };
    throw err;
  }
}

/** What a producer waiting for a task gets back. */
export type TaskResult = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

/** What the dead-letter queue keeps of a task that failed for good. */
export interface DeadLetterRecord {
  /** The message body as it was last leased (a task, or the raw body of an invalid one). */
  readonly task: string;
  readonly task_id: string | null;
  readonly error: string;
  /** The last lines of the task's output. */
  readonly output: readonly string[];
  readonly exit_code: number | null;
  readonly failed_at: string;
  readonly host: string;
  readonly queue: string;
  readonly deliveries: number;
  /** Set when `task` is only the start of a message that was not a valid task (it did not fit with its reason). */
  readonly task_truncated?: boolean;
}

export interface DeadLetterDetails {
  error: string;
  output?: readonly string[];
  exitCode?: number | null;
}

export class JobQueue {
  readonly name: string;
  readonly store: QueueStore;
  readonly deadLetters: QueueStore;
  /** NAME-control: messages that ask workers to stop or drain (`jobq downscale`). */
  readonly control: QueueStore;

  constructor(
    readonly backend: Backend,
    name: string,
    private readonly ownsBackend = false,
  ) {
    this.name = name;
    this.store = backend.queue(name);
    this.deadLetters = backend.queue(name + DEAD_LETTER_SUFFIX);
    this.control = backend.queue(name + CONTROL_SUFFIX);
  }

  /** Opens the queue a spec names (SPEC §3) and creates it if needed. */
  static async open(spec: string | QueueTarget, options: SpecEnvironment = {}): Promise<JobQueue> {
    const target = typeof spec === 'string' ? parseSpec(spec, options) : spec;
    const queue = new JobQueue(await openBackend(target), target.name, true);
    try {
      await queue.store.create();
      await queue.deadLetters.create();
      await queue.control.create();
    } catch (err) {
      await queue.close();
      throw err;
    }
    return queue;
  }

  /** The message body of a task, refusing one the backend cannot hold. */
  encode(task: Task): string {
    const body = serializeTask(task);
    const limit = this.backend.capabilities.maxMessageBytes;
    if (limit !== undefined) {
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > limit) {
        throw new TaskTooLargeError(
          `task ${task.id} is ${bytes} bytes as a message; the ${this.name} queue takes at most ${limit}`,
        );
      }
    }
    return body;
  }

  async push(tasks: readonly Task[]): Promise<void> {
    await this.store.push(tasks.map((task) => this.encode(task)));
  }

  async lease(max: number, visibilityMs: number): Promise<LeasedMessage[]> {
    const leases = await this.store.lease(max, visibilityMs);
    return leases.map((lease) => ({ lease, ...decode(lease.body, lease.bodyError) }));
  }

  /** The next tasks without leasing them (at most the backend's peek limit). */
  async peek(max: number): Promise<PeekedTask[]> {
    const messages = await this.store.peek(Math.min(max, this.backend.capabilities.maxPeek));
    return messages.map((message) => ({ message, ...decode(message.body, message.bodyError) }));
  }

  /** A failed task with retries left goes back at once with one retry fewer, same id. */
  async retry(lease: Lease, task: Task): Promise<void> {
    await this.store.release(lease, this.encode(withRetries(task, task.numRetries - 1)));
  }

  /**
   * Moves a leased message to NAME-failed with the reason, then deletes it. A
   * task that asked for a reply gets its failure as the result (the error's
   * first line). `task` null: the message is not a valid task.
   */
  async deadLetter(lease: Lease, task: Task | null, details: DeadLetterDetails): Promise<void> {
    const taskId = task?.id ?? null;
    const record = (output: readonly string[], body = lease.body): string =>
      JSON.stringify({
        task: body,
        ...(body.length < lease.body.length ? { task_truncated: true } : {}),
        task_id: taskId,
        error: details.error,
        output,
        exit_code: details.exitCode ?? null,
        failed_at: new Date().toISOString(),
        host: os.hostname(),
        queue: this.name,
        deliveries: lease.deliveries,
      } satisfies DeadLetterRecord);
    let output = details.output ?? [];
    let body = record(output);
    // Keep the record within the backend's limit by dropping output, oldest first.
    // If even that is too big (quotes in the task grow when quoted again), a
    // task is stored as its bare body, which fits because it came from this
    // backend and can be requeued; the reason is in the worker's log. A message
    // that is not a task is kept for its reason: its body is cut to fit.
    const limit = this.backend.capabilities.maxMessageBytes;
    const fits = (text: string) => limit === undefined || Buffer.byteLength(text, 'utf8') <= limit;
    while (!fits(body) && output.length > 0) {
      output = output.slice(Math.ceil(output.length / 2));
      body = record(output);
    }
    if (!fits(body)) {
      body =
        taskId === null
          ? longestFitting((length) => record([], lease.body.slice(0, length)), lease.body.length, fits)
          : lease.body;
    }
    await this.deadLetters.push([body]);
    // The result before the delete (as on success): if it fails, the message reappears instead of vanishing unanswered.
    if (task) await this.putResult(task, { ok: false, error: details.error.split('\n')[0] ?? details.error });
    await this.store.complete(lease);
  }

  /** Keeps the outcome of a task that asked for a reply, where the backend keeps results. */
  async putResult(task: Task, outcome: TaskResult): Promise<void> {
    if (!task.replyRequested || !this.store.putResult) return;
    let body: string;
    try {
      body = JSON.stringify({ id: task.id, ...outcome });
    } catch (err) {
      body = JSON.stringify({ id: task.id, ok: outcome.ok, error: `the result is not JSON: ${errorMessage(err)}` });
    }
    await this.store.putResult(task.id, body);
  }

  /**
   * Refuses, before anything is pushed, to wait for results on a backend that
   * does not keep them; returns the store's `takeResults`.
   */
  assertKeepsResults(): (taskIds: readonly string[]) => Promise<Map<string, string>> {
    const takeResults = this.store.takeResults?.bind(this.store);
    if (!this.backend.capabilities.results || !takeResults) {
      throw new UsageError(`${this.backend.description} does not keep task results; only local/ queues do`);
    }
    return takeResults;
  }

  /**
   * Waits for the results of these tasks (pushed with `replyRequested`),
   * calling `onResult` for each as it arrives; polls every `pollMs` (default
   * 200 ms). Resolves when all have arrived or `signal` aborts.
   */
  async waitForResults(
    taskIds: readonly string[],
    options: { onResult: (result: TaskResult & { id: string }) => void; signal?: AbortSignal; pollMs?: number },
  ): Promise<void> {
    const takeResults = this.assertKeepsResults();
    const pending = new Set(taskIds);
    while (pending.size > 0 && !options.signal?.aborted) {
      const found = await takeResults([...pending]);
      for (const [id, body] of found) {
        pending.delete(id);
        options.onResult(JSON.parse(body) as TaskResult & { id: string });
      }
      if (pending.size > 0) await sleep(options.pollMs ?? 200, options.signal);
    }
  }

  /** Dead-letter records from the front of NAME-failed. */
  async listDeadLetters(max: number): Promise<DeadLetterRecord[]> {
    const messages = await this.deadLetters.peek(max);
    return messages.map((message) => readDeadLetter(message.body, this.name));
  }

  /**
   * Puts dead-lettered tasks back on the queue (at most `max`), each with
   * `numRetries` retries if given, else as it was. Returns how many moved.
   */
  async requeueDeadLetters(options: { max?: number; numRetries?: number } = {}): Promise<number> {
    const max = options.max ?? Number.POSITIVE_INFINITY;
    const batch = this.backend.capabilities.maxLeaseBatch;
    let moved = 0;
    while (moved < max) {
      const leases = await this.deadLetters.lease(Math.min(batch, max - moved), 60_000);
      if (leases.length === 0) break;
      for (const lease of leases) {
        const record = readDeadLetter(lease.body, this.name);
        let body = record.task;
        if (options.numRetries !== undefined) {
          const decoded = decode(body);
          // An invalid task goes back as it was; the worker dead-letters it again.
          if (decoded.task) body = this.encode(withRetries(decoded.task, options.numRetries));
        }
        await this.store.push([body]);
        await this.deadLetters.complete(lease);
        moved += 1;
      }
    }
    return moved;
  }

  async close(): Promise<void> {
    if (this.ownsBackend) await this.backend.close();
  }
}

/** The longest `make(length)` for a length up to `max` that `fits` (a binary search); make(0) if none. */
function longestFitting(make: (length: number) => string, max: number, fits: (text: string) => boolean): string {
  let low = 0;
  let high = max;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(make(middle))) low = middle;
    else high = middle - 1;
  }
  return make(low);
}

/** Reads a NAME-failed message: a jobq record, or a bare task body another tool put there. */
export function readDeadLetter(body: string, queue: string): DeadLetterRecord {
  try {
    const value = JSON.parse(body) as Partial<DeadLetterRecord>;
    if (typeof value === 'object' && value !== null && typeof value.task === 'string') {
      return value as DeadLetterRecord;
    }
  } catch {
    // not a record: fall through
  }
  let taskId: string | null = null;
  try {
    taskId = parseTask(body).id;
  } catch {
    // neither a record nor a task
  }
  return {
    task: body,
    task_id: taskId,
    error: 'unknown (no dead-letter record)',
    output: [],
    exit_code: null,
    failed_at: '',
    host: '',
    queue,
    deliveries: 0,
  };
}
