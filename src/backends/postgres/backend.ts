/**
 * The PostgreSQL backend (`pg/NAME`, `postgres://…/DATABASE/NAME`): the queue
 * of a fleet of machines. One pool per process, whatever the number of slots:
 * the write batch has one statement in flight, the lease buffer one lease
 * call, and reads are rare, so `poolSize` (4) connections serve any `-n`;
 * LISTEN takes one more, opened only by a process that waits for pushes,
 * and a push larger than it holds in memory one more while it runs (push.ts).
 * The fleet records (fleet.ts) share the pool and the write batch.
 * Nothing connects until a queue is used: the first use probes TLS (for
 * sslmode=prefer) and brings the schema up to date (migrations.ts); a failure
 * there is retried by the next use.
 *
 * Commits are asynchronous (synchronous_commit=off) except those of pushes
 * and migrations: a commit that waits for the disk costs a few milliseconds
 * (an fsync), far more than the statement, and a lease, a heartbeat or a
 * settle that a server crash undoes only makes a task run again, which
 * at-least-once delivery allows; a push that a crash undid would lose a task,
 * so a statement with pushes waits for the disk before it is acknowledged.
 *
 * A worker never hangs on a dead connection: TCP keepalive on every socket, a
 * connect timeout (connect_timeout, 10 s), a statement timeout on the server
 * (30 s) and a read timeout on the client (35 s), after which pg destroys the
 * connection and the pool opens a new one when it is next needed.
 */
import pg from 'pg';
import type { Backend, BackendCapabilities, QueueStore } from '../backend.js';
import type { HistoryStore, WorkerRowStore } from '../fleet.js';
import type { PostgresConnection } from './connection.js';
import { backendFailure } from './errors.js';
import { PostgresFleet } from './fleet.js';
import { migrate, type MigrationResult } from './migrations.js';
import { PushListener } from './push-listener.js';
import { PostgresQueue, type StoreContext } from './store.js';
import { tlsSetting } from './tls.js';
import { PostgresWriteBatch } from './write-batch.js';

const capabilities: BackendCapabilities = {
  maxLeaseBatch: 256,
  maxMessageBytes: undefined,
  maxPeek: 1000,
  results: true,
  notifiesPushes: true,
  atomicPush: true,
  scan: true,
  history: true,
  workerRows: true,
};

export interface PostgresBackendOptions {
  /** Connections in the pool (default 4): enough for any number of slots in one process. */
  poolSize?: number;
  /** The server's statement_timeout, ms (default 30 s); the client gives up 5 s after it. */
  statementTimeoutMs?: number;
}

const defaults = { poolSize: 4, statementTimeoutMs: 30_000 } as const;

/** Opens a backend on the connection; nothing connects until a queue is used. */
export function openPostgresBackend(connection: PostgresConnection, options: PostgresBackendOptions = {}): PostgresBackend {
  return new PostgresBackend(connection, { ...defaults, ...options });
}

export class PostgresBackend implements Backend {
  readonly capabilities = capabilities;
  readonly description: string;
  private readonly writes: PostgresWriteBatch;
  private readonly listener: PushListener;
  private readonly context: StoreContext;
  private readonly fleet: PostgresFleet;
  private config: Promise<pg.ClientConfig> | undefined;
  private pool: Promise<pg.Pool> | undefined;
  private migrated: Promise<MigrationResult> | undefined;
  private closed = false;

  constructor(
    readonly connection: PostgresConnection,
    private readonly options: Required<PostgresBackendOptions>,
  ) {
    this.description = connection.description;
    const schema = connection.schema;
    this.writes = new PostgresWriteBatch(schema, (name, text, values) =>
      this.query<{ kind: string; id: string }>(name, text, values),
    );
    this.listener = new PushListener(() => this.connectClient(), schema);
    this.context = {
      schema,
      maxLeaseBatch: capabilities.maxLeaseBatch,
      maxPeek: capabilities.maxPeek,
      writes: this.writes,
      listener: this.listener,
      query: (name, text, values) => this.query(name, text, values),
      failure: (err, action, queue) => backendFailure(err, action, `PostgreSQL queue ${queue} (${this.description})`, connection),
      ready: async () => {
        await this.ready();
      },
      connect: () => this.connectClient(),
      statementTimeoutMs: options.statementTimeoutMs,
    };
    this.fleet = new PostgresFleet({
      schema,
      writes: this.writes,
      query: (name, text, values) => this.query(name, text, values),
      failure: (err, action, what) => backendFailure(err, action, `PostgreSQL ${what} (${this.description})`, connection),
    });
  }

  queue(name: string): QueueStore {
    return new PostgresQueue(name, this.context);
  }

  history(name: string): HistoryStore {
    return this.fleet.history(name);
  }

  workerRows(name: string): WorkerRowStore {
    return this.fleet.workerRows(name);
  }

  /**
   * Brings the schema up to date (`jobq migrate`); every use of a queue does
   * it first, so a worker whose role may create tables needs no separate step.
   */
  async migrate(): Promise<MigrationResult> {
    try {
      return await this.ready();
    } catch (err) {
      throw backendFailure(err, 'migrate the schema', `PostgreSQL ${this.description}`, this.connection);
    }
  }

  /** Writes everything queued (gathered attempts too), stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The writes first: the pool refuses queries once it is ending. Neither step rejects.
    await this.fleet.writeGathered();
    await this.writes.drain();
    const results = await Promise.allSettled([
      this.listener.close(),
      this.pool?.then(
        (pool) => pool.end(),
        () => undefined,
      ),
    ]);
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failures.length > 0) throw new AggregateError(failures.map((failure) => failure.reason as unknown), 'closing the PostgreSQL backend failed');
  }

  private async query<Row>(name: string, text: string, values: unknown[]): Promise<Row[]> {
    await this.ready();
    const pool = await this.connectPool();
    const result = await pool.query<Row & pg.QueryResultRow>({ name, text, values });
    return result.rows;
  }

  /** The pool and an up-to-date schema; a failure is forgotten, so the next call tries again. */
  private async ready(): Promise<MigrationResult> {
    this.migrated ??= this.connectPool()
      .then((pool) => migrate(pool, this.connection.schema))
      .catch((err: unknown) => {
        this.migrated = undefined;
        throw err;
      });
    return this.migrated;
  }

  private connectPool(): Promise<pg.Pool> {
    this.pool ??= this.clientConfig()
      .then((config) => {
        const pool = new pg.Pool({ ...config, max: this.options.poolSize, idleTimeoutMillis: 30_000, allowExitOnIdle: true });
        // An idle connection that dies (a server restart, pg_terminate_backend) is
        // dropped by the pool; the next query opens a new one.
        pool.on('error', () => undefined);
        return pool;
      })
      .catch((err: unknown) => {
        this.pool = undefined;
        throw err;
      });
    return this.pool;
  }

  /** The settings of every connection; the TLS probe (sslmode=prefer) runs once, and again after a failure. */
  private clientConfig(): Promise<pg.ClientConfig> {
    this.config ??= tlsSetting(this.connection)
      .then((ssl): pg.ClientConfig => {
        const connection = this.connection;
        return {
          host: connection.host,
          port: connection.port,
          user: connection.user,
          database: connection.database,
          ...(connection.password === undefined ? {} : { password: connection.password }),
          ssl,
          application_name: connection.applicationName,
          connectionTimeoutMillis: connection.connectTimeoutMs,
          keepAlive: true,
          keepAliveInitialDelayMillis: 10_000,
          statement_timeout: this.options.statementTimeoutMs,
          query_timeout: this.options.statementTimeoutMs + 5_000,
          idle_in_transaction_session_timeout: 60_000,
          options: '-c synchronous_commit=off',
        };
      })
      .catch((err: unknown) => {
        this.config = undefined;
        throw err;
      });
    return this.config;
  }

  /** A client of its own (not pooled), with every connection's settings: LISTEN, a large push's staging session. */
  private async connectClient(): Promise<pg.Client> {
    const client = new pg.Client(await this.clientConfig());
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }
}
