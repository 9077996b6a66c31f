/**
 * A queue's fleet records, part of the queue layer (only it touches the
 * backend's stores): the attempt history and the live worker rows of
 * src/backends/fleet.ts, where the backend keeps them.
 *
 * Recording an attempt never fails a settle: `record` starts the write in the
 * same turn as the settle (the local backend commits both together) and
 * hands a failure to the error listeners (the worker logs it once) instead
 * of throwing. Reading a capability the backend lacks is a UsageError that
 * says so.
 */
import type { Backend } from '../backends/backend.js';
import type {
  AttemptRecord,
  HistoryFilter,
  HistoryStore,
  OutcomeCounts,
  RetentionPolicy,
  WorkerRow,
  WorkerRowStore,
} from '../backends/fleet.js';
import { UsageError } from '../errors.js';

export type FleetRecordKind = 'history' | 'worker rows';

export type FleetErrorListener = (err: unknown, kind: FleetRecordKind) => void;

export class FleetRecords {
  private readonly historyStore: HistoryStore | undefined;
  private readonly rowStore: WorkerRowStore | undefined;
  private readonly listeners = new Set<FleetErrorListener>();
  /** The promise of the last `record`, whose failure is listened for already. */
  private lastRecorded: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    queueName: string,
  ) {
    this.historyStore = backend.capabilities.history ? backend.history?.(queueName) : undefined;
    this.rowStore = backend.capabilities.workerRows ? backend.workerRows?.(queueName) : undefined;
  }

  /** Whether the backend keeps the attempt history. */
  get keepsHistory(): boolean {
    return this.historyStore !== undefined;
  }

  /** Whether the backend keeps live worker rows. */
  get keepsWorkerRows(): boolean {
    return this.rowStore !== undefined;
  }

  /** Listens for failures of writes that nobody awaits (attempts); returns the unsubscribe. */
  onError(listener: FleetErrorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Records a finished attempt (where the backend keeps history); never throws.
   * The attempts written together share one promise (AttemptGatherer): its
   * failure is heard once, not once per attempt.
   */
  record(attempt: AttemptRecord): void {
    const written = this.historyStore?.record([attempt]);
    if (written === undefined || written === this.lastRecorded) return;
    this.lastRecorded = written;
    written.catch((err: unknown) => this.failed(err, 'history'));
  }

  /** Writes the attempts a remote backend buffers; failures go to the error listeners. */
  async flushHistory(): Promise<void> {
    await this.historyStore?.flush().catch((err: unknown) => this.failed(err, 'history'));
  }

  /** The newest attempts matching `filter`, oldest first. */
  async attempts(filter: HistoryFilter): Promise<AttemptRecord[]> {
    return (await this.history().query(filter)).reverse();
  }

  /** For each time, how many attempts ended since, by outcome. */
  countSince(since: readonly number[]): Promise<OutcomeCounts[]> {
    return this.history().countSince(since);
  }

  /** The ids of every task that succeeded in the retained history (`push --skip-done`). */
  succeededIds(): Promise<Set<string>> {
    return this.history().succeeded();
  }

  /** Deletes at most `batch` attempts out of the retention policy; 0 without history. */
  pruneHistory(policy: RetentionPolicy, batch: number): Promise<number> {
    return this.historyStore?.prune(policy, batch) ?? Promise.resolve(0);
  }

  /** Writes a worker's row; a no-op where the backend keeps none. */
  async putWorker(row: WorkerRow): Promise<void> {
    await this.rowStore?.put(row);
  }

  /** Every worker row of the queue, gone ones included. */
  workers(): Promise<WorkerRow[]> {
    if (!this.rowStore) throw this.missing('live worker rows');
    return this.rowStore.list();
  }

  /** Deletes worker rows last seen before `seenBefore`. */
  pruneWorkers(seenBefore: number): Promise<number> {
    return this.rowStore?.prune(seenBefore) ?? Promise.resolve(0);
  }

  private history(): HistoryStore {
    if (!this.historyStore) throw this.missing('a task history');
    return this.historyStore;
  }

  private missing(what: string): UsageError {
    return new UsageError(`${this.backend.description} keeps no ${what}`);
  }

  private failed(err: unknown, kind: FleetRecordKind): void {
    for (const listener of this.listeners) listener(err, kind);
  }
}
