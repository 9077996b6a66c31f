/**
 * The Azure backend's fleet records (src/backends/fleet.ts): one Azure Table
 * per queue in the same storage account, named `jq` + the queue's name
 * without hyphens (+ a short hash of the name when it had hyphens, so that
 * `a-b` and `ab` differ). Two kinds of entity share it:
 *
 *   attempts  PartitionKey `a` + the hour it ended, inverted, and RowKey the
 *             end time, inverted, + worker id + a counter: the service lists
 *             keys in ascending order, so the newest attempts come first and a
 *             time window is a range of partitions. `push --skip-done` reads
 *             the task ids of the succeeded ones.
 *   workers   PartitionKey `worker`, RowKey the worker id: its live row as JSON.
 *
 * Until 2026-12-01 each succeeded task also had a row in partition `done`
 * (RowKey its id), which doubled the entities a worker wrote for what a
 * filtered read of the attempts gives; rows left there are pruned by age.
 *
 * Attempts are buffered and written every second (or at 100) in entity group
 * transactions of one partition each, off the settle path. A refusal for
 * lack of permission (HTTP 403) turns the store off: the caller gets that one
 * error, and later writes do nothing.
 */
import { createHash } from 'node:crypto';
import type { TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { BackendError, errorMessage } from '../errors.js';
import { requestDeadline, timedOut } from './azure-deadline.js';
import {
  noOutcomes,
  readWorkerRow,
  type AttemptOutcome,
  type AttemptRecord,
  type HistoryFilter,
  type HistoryStore,
  type OutcomeCounts,
  type RetentionPolicy,
  type WorkerRow,
  type WorkerRowStore,
} from './fleet.js';

/** The table of a queue's fleet records. */
export function fleetTableName(queue: string): string {
  const letters = queue.replaceAll('-', '');
  const hash = letters === queue ? '' : createHash('md5').update(queue).digest('hex').slice(0, 6);
  return `jq${letters}${hash}`;
}

const hourMs = 3_600_000;
/** Inverted keys: larger times sort first. */
const invertHour = (ms: number): string => String(99_999_999 - Math.floor(ms / hourMs)).padStart(8, '0');
const invertMs = (ms: number): string => String(9_999_999_999_999 - Math.floor(ms)).padStart(13, '0');
const attemptPartition = (ms: number): string => `a${invertHour(ms)}`;
/** Every attempt partition. */
const attemptRange = "PartitionKey ge 'a' and PartitionKey lt 'b'";

/** An attempt entity's keys: its end's hour and time inverted (newest first), the worker and its counter to tell them apart. Exported for the bench's floor. */
export function attemptKeys(endedAt: number, workerId: string, counter: number): { partitionKey: string; rowKey: string } {
  return { partitionKey: attemptPartition(endedAt), rowKey: `${invertMs(endedAt)}-${workerId}-${counter}` };
}
/** Where versions before 2026-12-01 kept the ids of succeeded tasks (see above). */
const LEGACY_DONE = 'done';
const WORKER = 'worker';
const flushDelayMs = 1000;
const maxTransaction = 100;
/** Count retention costs a scan of keys: a count within the limit is trusted this long. */
const countCheckIntervalMs = hourMs;

type AttemptEntity = Omit<AttemptRecord, 'stop' | 'exitCode' | 'signal' | 'error' | 'output'> & {
  partitionKey: string;
  rowKey: string;
  stop?: string;
  exitCode?: number;
  signal?: string;
  error?: string;
  output?: string;
};

/** Opens the queue's table on first use (the SDK loads only then) and creates it once. */
export type TableOpener = () => Promise<TableClient>;

/** Shared by a queue's history and worker rows: the table, and whether permission was refused. */
export class FleetTable {
  private client: Promise<TableClient> | undefined;
  private refused: BackendError | undefined;

  constructor(
    readonly name: string,
    private readonly open: TableOpener,
  ) {}

  /** Whether a permission refusal turned the records off. */
  get off(): boolean {
    return this.refused !== undefined;
  }

  /**
   * Runs `fn` on the table with a deadline (azure-deadline.ts) for its
   * requests; a 403 turns the table off and rejects with one clear error.
   */
  async call<T>(action: string, fn: (client: TableClient, abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.refused) throw this.refused;
    const deadline = requestDeadline();
    try {
      this.client ??= this.open().then(async (client) => {
        await client.createTable({ abortSignal: deadline });
        return client;
      });
      return await fn(await this.client, deadline);
    } catch (caught) {
      this.client = undefined;
      const err = timedOut(caught, deadline);
      const { statusCode: status, code } = err as { statusCode?: number; code?: string };
      const detail = status === undefined ? errorMessage(err).split('\n')[0] : `HTTP ${status}${code ? ` ${code}` : ''}`;
      if (status === 403) {
        this.refused = new BackendError(
          `no permission to use the Azure table ${this.name} (${detail}): task history and worker rows are off`,
          { cause: err, permanent: true },
        );
        throw this.refused;
      }
      throw new BackendError(`Azure table ${this.name}: ${action} failed: ${detail}`, { cause: err });
    }
  }

  /** Submits actions in transactions of one partition each, at most 100 actions a transaction. */
  async submit(actions: readonly TransactionAction[]): Promise<void> {
    const byPartition = new Map<string, TransactionAction[]>();
    for (const action of actions) {
      const key = String(action[1].partitionKey);
      const group = byPartition.get(key);
      if (group) group.push(action);
      else byPartition.set(key, [action]);
    }
    for (const group of byPartition.values()) {
      for (let start = 0; start < group.length; start += maxTransaction) {
        await this.call('write', (client, abortSignal) =>
          client.submitTransaction(group.slice(start, start + maxTransaction), { abortSignal }),
        );
      }
    }
  }

  /**
   * Lists entities matching `filter`, each page in turn, until `visit`
   * returns false. Each page is a call of its own, with its own deadline: a
   * long listing is not cut short, a stalled one is.
   */
  async list<T extends object>(filter: string, visit: (entity: TableEntityResult<T>) => boolean, select?: string[]): Promise<void> {
    let continuationToken: string | undefined;
    do {
      const token = continuationToken;
      const page = await this.call('read', async (client, abortSignal) => {
        const pages = client
          .listEntities<T>({ queryOptions: { filter, ...(select && { select }) }, abortSignal })
          .byPage({ maxPageSize: 1000, ...(token !== undefined && { continuationToken: token }) });
        const next = await pages.next();
        return next.done === true ? undefined : next.value;
      });
      if (page === undefined) return;
      for (const entity of page) if (!visit(entity)) return;
      continuationToken = page.continuationToken;
    } while (continuationToken !== undefined);
  }

  /** Deletes the entities `filter` matches, at most `max`; returns how many. */
  async deleteWhere(filter: string, max: number): Promise<number> {
    const keys: TransactionAction[] = [];
    await this.list(filter, (entity) => {
      keys.push(deleteOf(entity));
      return keys.length < max;
    }, ['PartitionKey', 'RowKey']);
    await this.submit(keys);
    return keys.length;
  }
}

/** A delete of a listed entity (its keys are always selected). */
const deleteOf = (entity: { partitionKey?: string; rowKey?: string }): TransactionAction => [
  'delete',
  { partitionKey: entity.partitionKey ?? '', rowKey: entity.rowKey ?? '' },
];

const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;

export class AzureHistory implements HistoryStore {
  private pending: Array<{ attempt: AttemptRecord; done: () => void; failed: (err: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private counter = 0;
  /** The last full count of attempts (a keys scan), trusted for an hour while it was within the limit. */
  private counted: { at: number; attempts: number } | undefined;

  constructor(private readonly table: FleetTable) {}

  record(attempts: readonly AttemptRecord[]): Promise<void> {
    if (this.table.off) return Promise.resolve();
    return Promise.all(
      attempts.map(
        (attempt) =>
          new Promise<void>((done, failed) => {
            this.pending.push({ attempt, done, failed });
            if (this.pending.length >= maxTransaction) void this.flush();
            else if (!this.timer) {
              this.timer = setTimeout(() => void this.flush(), flushDelayMs);
              this.timer.unref();
            }
          }),
      ),
    ).then(() => undefined);
  }

  /** Writes what is pending; resolves once every earlier write is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending.splice(0);
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.table.submit(batch.map(({ attempt }): TransactionAction => ['create', this.entity(attempt)]));
        batch.forEach((entry) => entry.done());
      } catch (err) {
        batch.forEach((entry) => entry.failed(err));
      }
    });
    return this.writing;
  }

  private entity(a: AttemptRecord): AttemptEntity {
    const { stop, exitCode, signal, error, output, ...rest } = a;
    this.counter += 1;
    return {
      ...attemptKeys(a.endedAt, a.workerId, this.counter),
      ...rest,
      // Azure stores no nulls: an absent property reads back as null.
      ...(stop !== null && { stop }),
      ...(exitCode !== null && { exitCode }),
      ...(signal !== null && { signal }),
      ...(error !== null && { error }),
      ...(output !== null && { output }),
    };
  }

  async query(filter: HistoryFilter): Promise<AttemptRecord[]> {
    const parts = [attemptRange];
    if (filter.since !== undefined) {
      parts.push(`PartitionKey le ${quote(attemptPartition(filter.since))}`, `endedAt ge ${filter.since}`);
    }
    if (filter.taskId !== undefined) parts.push(`taskId eq ${quote(filter.taskId)}`);
    if (filter.workerId !== undefined) parts.push(`workerId eq ${quote(filter.workerId)}`);
    if (filter.outcomes !== undefined) parts.push(`(${filter.outcomes.map((o) => `outcome eq ${quote(o)}`).join(' or ')})`);
    const found: AttemptRecord[] = [];
    if (filter.limit <= 0) return found;
    await this.table.list<AttemptEntity>(parts.join(' and '), (entity) => {
      found.push(fromEntity(entity));
      return found.length < filter.limit;
    });
    return found;
  }

  async countSince(since: readonly number[]): Promise<OutcomeCounts[]> {
    const counts = since.map(() => noOutcomes());
    if (since.length === 0) return counts;
    const earliest = Math.min(...since);
    const filter = `PartitionKey ge 'a' and PartitionKey le ${quote(attemptPartition(earliest))} and endedAt ge ${earliest}`;
    await this.table.list<{ outcome: AttemptOutcome; endedAt: number }>(filter, (entity) => {
      since.forEach((time, index) => {
        const bucket = counts[index];
        if (bucket && entity.endedAt >= time && entity.outcome in bucket) bucket[entity.outcome] += 1;
      });
      return true;
    }, ['outcome', 'endedAt']);
    return counts;
  }

  async succeeded(): Promise<Set<string>> {
    const found = new Set<string>();
    await this.table.list<{ taskId: string }>(`${attemptRange} and outcome eq 'succeeded'`, (entity) => {
      found.add(entity.taskId);
      return true;
    }, ['taskId']);
    return found;
  }

  async prune(policy: RetentionPolicy, batch: number): Promise<number> {
    if (this.table.off) return 0;
    const cutoff = Date.now() - policy.maxAgeMs;
    // Whole hours older than the cutoff's hour (so an attempt may outlive its
    // age by up to an hour); an earlier version's done rows older than the
    // cutoff go along uncounted.
    let deleted = await this.table.deleteWhere(`PartitionKey gt ${quote(attemptPartition(cutoff))} and PartitionKey lt 'b'`, batch);
    if (deleted < batch) await this.table.deleteWhere(`PartitionKey eq '${LEGACY_DONE}' and endedAt lt ${cutoff}`, batch - deleted);
    const trusted =
      this.counted !== undefined &&
      Date.now() - this.counted.at < countCheckIntervalMs &&
      this.counted.attempts + this.counter <= policy.maxAttempts;
    if (deleted < batch && !trusted) deleted += await this.pruneBeyondCount(policy.maxAttempts, batch - deleted);
    return deleted;
  }

  /** Deletes attempts beyond the newest `maxAttempts` (a scan of keys, newest first). */
  private async pruneBeyondCount(maxAttempts: number, max: number): Promise<number> {
    let seen = 0;
    const extra: TransactionAction[] = [];
    await this.table.list(attemptRange, (entity) => {
      seen += 1;
      if (seen > maxAttempts) extra.push(deleteOf(entity));
      return extra.length < max;
    }, ['PartitionKey', 'RowKey']);
    await this.table.submit(extra);
    // A scan cut short by the batch is no count; `counter` counts the attempts this process adds after it.
    this.counted = extra.length < max ? { at: Date.now(), attempts: seen - extra.length - this.counter } : undefined;
    return extra.length;
  }
}

function fromEntity(entity: TableEntityResult<AttemptEntity>): AttemptRecord {
  return {
    taskId: entity.taskId,
    kind: entity.kind,
    command: entity.command,
    workerId: entity.workerId,
    host: entity.host,
    pid: entity.pid,
    startedAt: entity.startedAt,
    endedAt: entity.endedAt,
    durationMs: entity.durationMs,
    outcome: entity.outcome,
    stop: entity.stop ?? null,
    exitCode: entity.exitCode ?? null,
    signal: entity.signal ?? null,
    error: entity.error ?? null,
    output: entity.output ?? null,
  };
}

export class AzureWorkerRows implements WorkerRowStore {
  constructor(private readonly table: FleetTable) {}

  async put(row: WorkerRow): Promise<void> {
    if (this.table.off) return;
    await this.table.call('write the worker row', (client, abortSignal) =>
      client.upsertEntity(
        { partitionKey: WORKER, rowKey: row.workerId, lastSeen: row.lastSeen, body: JSON.stringify(row) },
        'Replace',
        { abortSignal },
      ),
    );
  }

  async list(): Promise<WorkerRow[]> {
    const rows: WorkerRow[] = [];
    await this.table.list<{ body: string }>(`PartitionKey eq '${WORKER}'`, (entity) => {
      const row = readWorkerRow(JSON.parse(entity.body));
      if (row) rows.push(row);
      return true;
    });
    return rows;
  }

  async prune(seenBefore: number): Promise<number> {
    if (this.table.off) return 0;
    return this.table.deleteWhere(`PartitionKey eq '${WORKER}' and lastSeen lt ${seenBefore}`, 1000);
  }
}
