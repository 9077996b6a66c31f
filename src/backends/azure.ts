/**
 * The Azure Storage Queue backend (`ACCOUNT/NAME`, or any spec with a
 * connection string, Azurite included). Messages are plain text, as the
 * reference writes them (no base64), and never expire (TTL -1), so a task
 * waits in the queue for as long as it takes.
 *
 * A lease is a received message; its token is the pop receipt. Azure issues a
 * new pop receipt on every update, so `extend` returns the lease with the new
 * one and the old token is stale from then on. `deliveries` is the message's
 * dequeueCount; a release sends a new message, so that it starts from zero.
 * The service reports a stale token as 404 MessageNotFound (the message was
 * deleted, or its queue) or 400 PopReceiptMismatch (someone else received it
 * since); both become LeaseLostError. Every other failure becomes a one-line
 * BackendError that names the queue, keeping the SDK's error as `cause`.
 *
 * Every operation has a deadline (azure-deadline.ts): a request to an
 * endpoint that never answers gives the caller a BackendError (`no answer
 * within …`), and it retries as for any outage. A queue that does not exist (404 QueueNotFound: it was
 * deleted) is a permanent BackendError: waiting cannot bring it back.
 */
import type { TokenCredential } from '@azure/identity';
import type { QueueClient, StorageRetryOptions } from '@azure/storage-queue';
import { BackendError, type JobqError, LeaseLostError, UsageError, isJobqError } from '../errors.js';
import { requestDeadline, timedOut } from './azure-deadline.js';
import type { Backend, BackendCapabilities, Lease, PeekedMessage, QueueStore } from './backend.js';
import { AzureHistory, AzureWorkerRows, FleetTable, fleetTableName, type TableOpener } from './azure-fleet.js';
import { QueueServiceClient, RestError, TableClient } from './azure-sdk.js';
import type { HistoryStore, WorkerRowStore } from './fleet.js';
import type { QueueTarget } from './spec.js';

/**
 * Azure's limits: 32 messages per receive or peek, 64 KiB per message. A
 * queue cannot be read whole without leasing; history and worker rows live
 * in an Azure Table of the same account (azure-fleet.ts).
 */
const capabilities: BackendCapabilities = {
  maxLeaseBatch: 32,
  maxMessageBytes: 64 * 1024,
  maxPeek: 32,
  results: false,
  scan: false,
  history: true,
  workerRows: true,
  notifiesPushes: false,
};

/** How many messages `push` sends at once (Azure has no batch send). */
const PUSH_CONCURRENCY = 16;

/** Azure's longest visibility timeout: 7 days. */
const MAX_VISIBILITY_SECONDS = 7 * 24 * 60 * 60;

/**
 * Retries of transient failures (network errors, 500, 503) inside the SDK:
 * 4 tries, the second at once, then after 1 s and 3 s (the SDK's default
 * waits 4 s and 12 s), so that a worker or the CLI reports an unreachable
 * account within seconds.
 */
const retryOptions: StorageRetryOptions = {
  maxTries: 4,
  retryDelayInMs: 1000,
  maxRetryDelayInMs: 10_000,
  // Sent to the service as its own time limit, so that it gives up before we do.
  tryTimeoutInMs: 10_000,
};

/** Retries of the table calls (history, worker rows): as the queue's, short. */
const tableRetryOptions = { maxRetries: 3, retryDelayInMs: 1000, maxRetryDelayInMs: 10_000 };

/**
 * The account's Entra ID credential (azure-credential.ts), loaded at its first
 * token request: @azure/identity and MSAL take ~100 ms to import, which a
 * worker on a connection string (Azurite, a SAS) would pay at every start.
 */
function lazyCredential(): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes, options) {
      credential ??= import('./azure-credential.js').then(({ azureCredential }) => azureCredential());
      return (await credential).getToken(scopes, options);
    },
  };
}

/**
 * How a queue's fleet table is opened: with the account's credential, or from
 * the connection string. A connection string that names a QueueEndpoint and
 * no TableEndpoint has no table service (it would otherwise be guessed).
 */
function tableOpener(
  target: Extract<QueueTarget, { kind: 'azure-account' | 'azure-connection-string' }>,
  credential: TokenCredential,
): (table: string) => TableOpener {
  return (table) => async () => {
    if (target.kind === 'azure-account') {
      return new TableClient(`https://${target.account}.table.core.windows.net`, table, credential, { retryOptions: tableRetryOptions });
    }
    const parts = target.connectionString.split(';').map((part) => part.trim().split('=', 1)[0]?.toLowerCase());
    if (parts.includes('queueendpoint') && !parts.includes('tableendpoint')) {
      throw new BackendError('the connection string names no TableEndpoint: task history and worker rows are off');
    }
    return TableClient.fromConnectionString(target.connectionString, table, { retryOptions: tableRetryOptions, allowInsecureConnection: true });
  };
}

/** Opens the storage account a spec names; no request is made until a queue is used. */
export function openAzureBackend(target: Extract<QueueTarget, { kind: 'azure-account' | 'azure-connection-string' }>): Backend {
  const credential = lazyCredential();
  const tables = tableOpener(target, credential);
  if (target.kind === 'azure-account') {
    const url = `https://${target.account}.queue.core.windows.net`;
    return new AzureBackend(new QueueServiceClient(url, credential, { retryOptions }), tables);
  }
  let service: QueueServiceClient;
  try {
    service = QueueServiceClient.fromConnectionString(target.connectionString, { retryOptions });
  } catch (err) {
    // The SDK's messages name the faulty part, not the value (a test checks the key is not repeated).
    throw new UsageError(`invalid Azure Storage connection string: ${oneLine(err)}`, { cause: err });
  }
  return new AzureBackend(service, tables);
}

class AzureBackend implements Backend {
  readonly capabilities = capabilities;
  readonly description: string;
  private readonly tables = new Map<string, { table: FleetTable; history: AzureHistory }>();

  constructor(
    private readonly service: QueueServiceClient,
    private readonly openTable: (table: string) => TableOpener,
  ) {
    // Without the query string: a SAS connection string puts its signature there.
    const url = new URL(service.url);
    this.description = `azure:${url.origin}${url.pathname.replace(/\/$/, '')}`;
  }

  queue(name: string): QueueStore {
    return new AzureQueue(name, this.service.getQueueClient(name), this.description);
  }

  history(name: string): HistoryStore {
    return this.fleet(name).history;
  }

  workerRows(name: string): WorkerRowStore {
    return new AzureWorkerRows(this.fleet(name).table);
  }

  /** One table and one history buffer per queue, so that close() flushes every buffer. */
  private fleet(name: string): { table: FleetTable; history: AzureHistory } {
    let fleet = this.tables.get(name);
    if (!fleet) {
      const tableName = fleetTableName(name);
      const table = new FleetTable(tableName, this.openTable(tableName));
      fleet = { table, history: new AzureHistory(table) };
      this.tables.set(name, fleet);
    }
    return fleet;
  }

  async close(): Promise<void> {
    // Buffered attempts are written; a failure was reported to whoever recorded them.
    await Promise.all([...this.tables.values()].map(({ history }) => history.flush()));
    // The SDK holds no connection open: idle keep-alive sockets are unref'd
    // by Node's agent and never keep the process alive.
  }
}

class AzureQueue implements QueueStore {
  constructor(
    readonly name: string,
    private readonly client: QueueClient,
    private readonly where: string,
  ) {}

  async create(): Promise<void> {
    await this.call('create the queue', (abortSignal) => this.client.createIfNotExists({ abortSignal }));
  }

  /**
   * Sends PUSH_CONCURRENCY messages at a time, so with several bodies their
   * order in the queue is not guaranteed. On a failure no further message is
   * started; the error says how many were sent.
   */
  async push(bodies: readonly string[]): Promise<void> {
    let next = 0;
    let sent = 0;
    let failure: unknown;
    const sender = async (): Promise<void> => {
      while (failure === undefined && next < bodies.length) {
        const body = bodies[next++] as string;
        const deadline = requestDeadline();
        try {
          await this.client.sendMessage(body, { messageTimeToLive: -1, abortSignal: deadline });
          sent += 1;
        } catch (err) {
          failure ??= timedOut(err, deadline);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PUSH_CONCURRENCY, bodies.length) }, sender));
    if (failure !== undefined) {
      const action = bodies.length === 1 ? 'push' : `push (${sent} of ${bodies.length} messages were sent)`;
      throw this.failure(action, failure);
    }
  }

  async lease(max: number, visibilityMs: number): Promise<Lease[]> {
    const count = Math.min(Math.floor(max), capabilities.maxLeaseBatch);
    if (!(count >= 1)) return []; // also for NaN
    const response = await this.call('lease', (abortSignal) =>
      this.client.receiveMessages({ numberOfMessages: count, visibilityTimeout: visibilitySeconds(visibilityMs), abortSignal }),
    );
    return response.receivedMessageItems.map((item) => ({
      messageId: item.messageId,
      token: item.popReceipt,
      body: item.messageText,
      deliveries: item.dequeueCount,
    }));
  }

  async extend(lease: Lease, visibilityMs: number): Promise<Lease> {
    const response = await this.settle('extend', lease, (abortSignal) =>
      this.client.updateMessage(lease.messageId, lease.token, undefined, visibilitySeconds(visibilityMs), { abortSignal }),
    );
    if (response.popReceipt === undefined) {
      throw new BackendError(`${this.label}: extend of message ${lease.messageId} returned no pop receipt`);
    }
    return { ...lease, token: response.popReceipt };
  }

  async complete(lease: Lease): Promise<void> {
    await this.settle('complete', lease, (abortSignal) => this.client.deleteMessage(lease.messageId, lease.token, { abortSignal }));
  }

  /**
   * Azure's dequeueCount cannot be reset, and `deliveries` must start again
   * from zero after a release: so the body goes on as a new message and the
   * leased one is deleted. The copy is sent first, so that a crash in between
   * leaves a duplicate, never a loss. When the delete fails (the lease is gone,
   * or the service), the copy is withdrawn again; should that fail too, the
   * task is there twice, which at-least-once allows.
   */
  async release(lease: Lease, body?: string): Promise<void> {
    const copy = await this.call(`release message ${lease.messageId}`, (abortSignal) =>
      this.client.sendMessage(body ?? lease.body, { messageTimeToLive: -1, abortSignal }),
    );
    try {
      await this.settle('release', lease, (abortSignal) => this.client.deleteMessage(lease.messageId, lease.token, { abortSignal }));
    } catch (err) {
      const abortSignal = requestDeadline();
      await this.client.deleteMessage(copy.messageId, copy.popReceipt, { abortSignal }).catch(() => undefined);
      throw err;
    }
  }

  async peek(max: number): Promise<PeekedMessage[]> {
    const count = Math.min(Math.floor(max), capabilities.maxPeek);
    if (!(count >= 1)) return []; // also for NaN
    const response = await this.call('peek', (abortSignal) => this.client.peekMessages({ numberOfMessages: count, abortSignal }));
    return response.peekedMessageItems.map((item) => ({
      messageId: item.messageId,
      body: item.messageText,
      deliveries: item.dequeueCount,
    }));
  }

  async size(): Promise<number> {
    const properties = await this.call('read the queue size', (abortSignal) => this.client.getProperties({ abortSignal }));
    return properties.approximateMessagesCount ?? 0;
  }

  async clear(): Promise<void> {
    await this.call('clear', (abortSignal) => this.client.clearMessages({ abortSignal }));
  }

  private get label(): string {
    return `Azure queue ${this.name} (${this.where})`;
  }

  /** Runs one operation with its deadline (REQUEST_TIMEOUT_MS); its failure becomes a BackendError. */
  private async call<T>(action: string, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = requestDeadline();
    try {
      return await run(deadline);
    } catch (err) {
      throw this.failure(action, timedOut(err, deadline));
    }
  }

  /** Like `call`, for an operation on a lease: a stale pop receipt is LeaseLostError. */
  private async settle<T>(action: string, lease: Lease, run: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = requestDeadline();
    try {
      return await run(deadline);
    } catch (err) {
      if (err instanceof RestError && isStaleReceipt(err)) {
        throw new LeaseLostError(
          `${action} failed: the lease on message ${lease.messageId} in ${this.name} is gone (${err.code})`,
          { cause: err },
        );
      }
      throw this.failure(`${action} message ${lease.messageId}`, timedOut(err, deadline));
    }
  }

  private failure(action: string, err: unknown): JobqError {
    if (isJobqError(err)) return err;
    if (err instanceof RestError && err.statusCode === 404 && err.code === 'QueueNotFound') {
      return new BackendError(
        `${this.label}: ${action} failed: the queue does not exist (HTTP 404 QueueNotFound): it was deleted; ` +
          'create it again (jobq push does) and restart',
        { cause: err, permanent: true },
      );
    }
    return new BackendError(`${this.label}: ${action} failed: ${describe(err)}`, { cause: err });
  }
}

function isStaleReceipt(err: RestError): boolean {
  return (
    (err.statusCode === 404 && err.code === 'MessageNotFound') ||
    (err.statusCode === 400 && err.code === 'PopReceiptMismatch')
  );
}

/** Milliseconds as Azure's whole seconds, rounded up: a lease is never shorter than asked. */
function visibilitySeconds(ms: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(ms / 1000)));
}

/** One line about an SDK failure: the HTTP status and error code, or the network error. */
function describe(err: unknown): string {
  if (err instanceof RestError && err.statusCode !== undefined) {
    // The service's message ends in RequestId/Time lines; the first line is the reason.
    const reason = firstLine(err.message);
    const status = `HTTP ${err.statusCode}${err.code ? ` ${err.code}` : ''}`;
    return reason ? `${status}: ${reason}` : status;
  }
  return oneLine(err);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? '';
}

/** Any thrown value's message on one line (credential errors list each credential on its own line). */
function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}
