/**
 * The queue layer: a task queue on top of a backend. It owns the backend's
 * stores (the queue, its dead letters NAME-failed and its control channel
 * NAME-control) and is the only code that touches them: everything above it
 * (the worker, the commands, the API) sees tasks, leases and the settle
 * operations of SPEC §6 step 4, never a raw store.
 *
 * Settling is decided here, once:
 * - succeed: the result (for a producer that waits) is kept, then the message deleted;
 * - retry: the message goes back at once with one retry fewer, same id;
 * - release: the message goes back at once, unchanged (a stop; not a failure);
 * - dead-letter: a record goes to NAME-failed, the failure is kept as the
 *   result, then the message is deleted.
 * Each writes what survives a crash first (the result or the record before
 * the delete), so a crash in between leaves the task to run again, never lost.
 * Given the attempt that ended, each also records it in the queue's history
 * (`fleet`), in the same turn as the settle's write.
 */
import type { AtomicPush, Backend, BackendCapabilities, Lease, PeekedMessage, QueueStore } from '../backends/backend.js';
import type { AttemptRecord } from '../backends/fleet.js';
import { openBackend } from '../backends/open.js';
import {
  CONTROL_SUFFIX,
  DEAD_LETTER_SUFFIX,
  parseSpec,
  specFromEnvironment,
  type QueueTarget,
  type SpecEnvironment,
} from '../backends/spec.js';
import { InvalidTaskError, TaskTooLargeError, UsageError, errorMessage, hasCode } from '../errors.js';
import { sleep } from '../timers/sleep.js';
import { parseTask, serializeTask, withRetries, type Task } from '../task/task.js';
import { deadLetterBody, readDeadLetter, type DeadLetterDetails, type DeadLetterEntry, type DeadLetterRecord } from './dead-letters.js';
import { FleetRecords } from './fleet-records.js';

export type { DeadLetterDetails, DeadLetterEntry, DeadLetterRecord } from './dead-letters.js';

/** A leased message: a task, or a body that is not a valid task (with the reason). */
export type LeasedMessage =
  | { readonly lease: Lease; readonly task: Task; readonly invalid?: undefined }
  | { readonly lease: Lease; readonly task?: undefined; readonly invalid: InvalidTaskError };

export type PeekedTask =
  | { readonly message: PeekedMessage; readonly task: Task; readonly invalid?: undefined }
  | { readonly message: PeekedMessage; readonly task?: undefined; readonly invalid: InvalidTaskError };

/** What a producer waiting for a task gets back. */
export type TaskResult = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

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

export class JobQueue {
  readonly name: string;
  /** The queue's attempt history and live worker rows (where the backend keeps them). */
  readonly fleet: FleetRecords;
  private readonly store: QueueStore;
  private readonly deadLetters: QueueStore;
  private readonly control: QueueStore;

  /** A queue on an open backend; `ownsBackend`: close() closes the backend too. */
  constructor(
    private readonly backend: Backend,
    name: string,
    private readonly ownsBackend = false,
  ) {
    this.name = name;
    this.store = backend.queue(name);
    this.deadLetters = backend.queue(name + DEAD_LETTER_SUFFIX);
    this.control = backend.queue(name + CONTROL_SUFFIX);
    this.fleet = new FleetRecords(backend, name);
  }

  /**
   * Opens the queue the environment names, as ai4s-jobq's `JobQ.from_environment`
   * reads it (JOBQ_STORAGE_QUEUE, or JOBQ_STORAGE with JOBQ_QUEUE; see
   * `specFromEnvironment`), and creates it if needed.
   */
  static fromEnvironment(options: SpecEnvironment = {}): Promise<JobQueue> {
    return JobQueue.open(specFromEnvironment(undefined, options.env), options);
  }

  /** Opens the queue a spec names (SPEC §3) and creates it if needed. */
  static async open(spec: string | QueueTarget, options: SpecEnvironment = {}): Promise<JobQueue> {
    const target = typeof spec === 'string' ? parseSpec(spec, options) : spec;
    const queue = new JobQueue(await openBackend(target), target.name, true);
    try {
      await queue.create();
    } catch (err) {
      await queue.close();
      throw err;
    }
    return queue;
  }

  /** Creates the queue and its companions NAME-failed and NAME-control where they do not exist (idempotent). */
  async create(): Promise<void> {
    // At once: on Azure each is a round trip, and every worker start waits for them.
    await Promise.all([this.store.create(), this.deadLetters.create(), this.control.create()]);
  }

  /** Where the queue lives, for logs: `local:/path/jobq.db`, `azure:https://…` (never a secret). */
  get description(): string {
    return this.backend.description;
  }

  get capabilities(): BackendCapabilities {
    return this.backend.capabilities;
  }

  /** The dead-letter queue's name, NAME-failed. */
  get deadLetterName(): string {
    return this.deadLetters.name;
  }

  /**
   * The same queue seen through `wrap(backend)` (instrumentation such as
   * `jobq bench`'s latency recorder). Closing it leaves this queue open.
   */
  withBackend(wrap: (backend: Backend) => Backend): JobQueue {
    return new JobQueue(wrap(this.backend), this.name);
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

  /** Appends message bodies made by `encode`, visible at once (the push pipeline encodes before it sends). */
  send(bodies: readonly string[]): Promise<void> {
    return this.store.push(bodies);
  }

  /** Starts an all-or-nothing push where the backend has one (local/, PostgreSQL); undefined elsewhere. */
  async beginPush(): Promise<AtomicPush | undefined> {
    return this.backend.capabilities.atomicPush ? this.store.beginPush?.() : undefined;
  }

  async lease(max: number, visibilityMs: number): Promise<LeasedMessage[]> {
    const leases = await this.store.lease(max, visibilityMs);
    return leases.map((lease) => ({ lease, ...decode(lease.body, lease.bodyError) }));
  }

  /** Extends a lease (a heartbeat); returns it with its newest token. LeaseLostError when it is gone. */
  extend(lease: Lease, visibilityMs: number): Promise<Lease> {
    return this.store.extend(lease, visibilityMs);
  }

  /**
   * A task succeeded: its result is kept for a producer that waits, then the
   * message is deleted. (Not an async function: most tasks want no reply, and
   * this is every task's settlement.)
   */
  succeed(lease: Lease, task: Task, result: unknown, attempt?: AttemptRecord): Promise<void> {
    const kept = this.putResult(task, { ok: true, result: result ?? null });
    return kept ? kept.then(() => this.complete(lease, attempt)) : this.complete(lease, attempt);
  }

  /** Deletes a settled message and records its attempt in the same turn; resolves once the delete is done. */
  private complete(lease: Lease, attempt: AttemptRecord | undefined): Promise<void> {
    const completed = this.store.complete(lease);
    if (attempt) this.fleet.record(attempt);
    return completed;
  }

  /** A failed task with retries left goes back at once with one retry fewer, same id. */
  async retry(lease: Lease, task: Task, attempt?: AttemptRecord): Promise<void> {
    const released = this.store.release(lease, this.encode(withRetries(task, task.numRetries - 1)));
    if (attempt) this.fleet.record(attempt);
    await released;
  }

  /** A leased message goes back at once, unchanged (a stop, or a lease not used). */
  async release(lease: Lease, attempt?: AttemptRecord): Promise<void> {
    const released = this.store.release(lease);
    if (attempt) this.fleet.record(attempt);
    await released;
  }

  /**
   * Moves a leased message to NAME-failed with the reason, then deletes it. A
   * task that asked for a reply gets its failure as the result (the error's
   * first line). `task` null: the message is not a valid task.
   */
  async deadLetter(lease: Lease, task: Task | null, details: DeadLetterDetails, attempt?: AttemptRecord): Promise<void> {
    await this.deadLetters.push([deadLetterBody(this.name, lease, task, details, this.backend.capabilities.maxMessageBytes)]);
    // The result before the delete (as on success): if it fails, the message reappears instead of vanishing unanswered.
    if (task) await this.putResult(task, { ok: false, error: details.error.split('\n')[0] ?? details.error });
    await this.complete(lease, attempt);
  }

  /**
   * An idle worker's wait for tasks: until a push to this queue is notified
   * (backends that notify pushes: PostgreSQL), `ms` at most, or `signal`;
   * elsewhere simply `ms`. Never rejects; the caller leases again after it.
   */
  waitForPush(ms: number, signal: AbortSignal): Promise<void> {
    return this.store.waitForPush?.(ms, signal) ?? sleep(ms, signal);
  }

  /** The next tasks without leasing them (at most the backend's peek limit). */
  async peek(max: number): Promise<PeekedTask[]> {
    const messages = await this.store.peek(Math.min(max, this.backend.capabilities.maxPeek));
    return messages.map((message) => ({ message, ...decode(message.body, message.bodyError) }));
  }

  /**
   * The ids of every task in the queue, leased ones included (`push
   * --skip-queued`); a UsageError where the backend cannot read a queue
   * whole without leasing it.
   */
  async queuedTaskIds(): Promise<Set<string>> {
    const scan = this.store.scan?.bind(this.store);
    if (!this.backend.capabilities.scan || !scan) {
      throw new UsageError(`${this.backend.description} cannot list a queue without leasing its tasks: --skip-queued needs a local/ or PostgreSQL queue`);
    }
    const ids = new Set<string>();
    await scan((body) => {
      const decoded = decode(body);
      if (decoded.task) ids.add(decoded.task.id);
    });
    return ids;
  }

  /** The approximate number of tasks, leased ones included. */
  size(): Promise<number> {
    return this.store.size();
  }

  /** Deletes every task. */
  clear(): Promise<void> {
    return this.store.clear();
  }

  /** Keeps the outcome of a task that asked for a reply, where the backend keeps results; undefined: nothing to keep. */
  private putResult(task: Task, outcome: TaskResult): Promise<void> | undefined {
    if (!task.replyRequested || !this.store.putResult) return undefined;
    let body: string;
    try {
      body = JSON.stringify({ id: task.id, ...outcome });
    } catch (err) {
      body = JSON.stringify({ id: task.id, ok: outcome.ok, error: `the result is not JSON: ${errorMessage(err)}` });
    }
    return this.store.putResult(task.id, body);
  }

  /** Refuses, before anything is pushed, to wait for results on a backend that does not keep them. */
  assertKeepsResults(): void {
    this.resultTaker();
  }

  private resultTaker(): (taskIds: readonly string[]) => Promise<Map<string, string>> {
    const takeResults = this.store.takeResults?.bind(this.store);
    if (!this.backend.capabilities.results || !takeResults) {
      throw new UsageError(`${this.backend.description} does not keep task results; only local/ and pg/ queues do`);
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
    const takeResults = this.resultTaker();
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
    return (await this.deadLetterEntries(max)).map((entry) => entry.record);
  }

  /** Dead-letter records from the front of NAME-failed, each with its message id (to requeue it alone). */
  async deadLetterEntries(max: number): Promise<DeadLetterEntry[]> {
    const messages = await this.deadLetters.peek(Math.min(max, this.backend.capabilities.maxPeek));
    return messages.map((message) => ({ messageId: message.messageId, record: readDeadLetter(message.body, this.name) }));
  }

  /** How many records NAME-failed holds (approximately, as `size`). */
  deadLetterCount(): Promise<number> {
    return this.deadLetters.size();
  }

  /** Deletes every dead-letter record. */
  purgeDeadLetters(): Promise<void> {
    return this.deadLetters.clear();
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
        await this.requeueLeased(lease, options.numRetries);
        moved += 1;
      }
    }
    return moved;
  }

  /**
   * Puts the dead-lettered task with this message id (from `deadLetterEntries`)
   * back on the queue, as it was; false when NAME-failed no longer holds it.
   * The records leased on the way to it are made visible again with their
   * ids unchanged (on Azure within a second).
   */
  async requeueDeadLetter(messageId: string): Promise<boolean> {
    const passed: Lease[] = [];
    try {
      for (;;) {
        const leases = await this.deadLetters.lease(this.backend.capabilities.maxLeaseBatch, 60_000);
        if (leases.length === 0) return false;
        const found = leases.find((lease) => lease.messageId === messageId);
        passed.push(...leases.filter((lease) => lease !== found));
        if (found) {
          await this.requeueLeased(found);
          return true;
        }
      }
    } finally {
      await Promise.all(passed.map((lease) => this.deadLetters.extend(lease, 0).catch(() => undefined)));
    }
  }

  /** Pushes the task of a leased dead-letter record (with `numRetries` retries if given), then deletes the record. */
  private async requeueLeased(lease: Lease, numRetries?: number): Promise<void> {
    let body = readDeadLetter(lease.body, this.name).task;
    if (numRetries !== undefined) {
      const decoded = decode(body);
      // An invalid task goes back as it was; the worker dead-letters it again.
      if (decoded.task) body = this.encode(withRetries(decoded.task, numRetries));
    }
    await this.store.push([body]);
    await this.deadLetters.complete(lease);
  }

  /** Puts control messages (`jobq downscale`) on NAME-control. */
  sendControl(bodies: readonly string[]): Promise<void> {
    return this.control.push(bodies);
  }

  /** Takes (leases and deletes) the next control message; undefined when there is none. */
  async takeControl(): Promise<string | undefined> {
    const [lease] = await this.control.lease(1, 30_000);
    if (!lease) return undefined;
    await this.control.complete(lease);
    return lease.body;
  }

  async close(): Promise<void> {
    if (this.ownsBackend) await this.backend.close();
  }
}
