/**
 * All-or-nothing pushes on PostgreSQL (`AtomicPush`), of any size.
 *
 * A push holds its messages in memory up to `holdBytes`; a push that ends
 * within that (nearly all of them) commits them as one ordinary push: one
 * statement through the write batch, durable, notifying at its commit.
 *
 * A larger one opens a session of its own and stages its messages, in
 * chunks as the input streams in, in a temporary table of that session,
 * each chunk in a short transaction of its own. `commit` then moves them
 * into the queue in one transaction, which notifies the queue's listeners
 * as it commits. Why a temporary table, and not one transaction held open
 * across the whole push:
 *
 * - Nothing is left behind by a pusher that dies: the server drops a
 *   session's temporary tables when the session ends (the pusher killed, its
 *   connection cut, the server restarted), so there is nothing to sweep.
 * - Workers do not notice a push in progress. Rows inserted by an open
 *   transaction would sit, invisible, at the front of the queue's index, and
 *   every lease would step over all of them; an open transaction would also
 *   hold back vacuum of the queue's dead rows for as long as the input takes
 *   to arrive, and fall to idle_in_transaction_session_timeout when it is
 *   slow. The staging session is idle between chunks, in no transaction.
 *
 * The cost: a large push writes its messages twice (the temporary table is
 * not WAL-logged, so the second write is the cheap one). The session's loss
 * before the commit fails the push, with nothing enqueued.
 */
import type pg from 'pg';
import { BackendError, type JobqError } from '../../errors.js';
import { sqlState } from './errors.js';
import type { AtomicPush } from '../backend.js';

/**
 * Bytes of message bodies held in memory before the push stages them: a few
 * times this is in memory while they are sent as one parameter, so a push
 * streams through a small heap (a 40 MB one in the tests).
 */
const holdBytes = 2 * 1024 * 1024;
/** Bytes of message bodies in each staged chunk. */
const chunkBytes = 1024 * 1024;
/** The move's time limit: the session's statement timeout, plus this much per message (10,000 a second). */
const moveMsPerMessage = 0.1;

export interface PushContext {
  /** The queue's name. */
  readonly queue: string;
  /** The schema's name (the queue's table, and the channel it notifies). */
  readonly schema: string;
  /** The session's statement timeout, ms. */
  readonly statementTimeoutMs: number;
  /** An ordinary push (the write batch): durable and notified at its commit. */
  push(bodies: readonly string[]): Promise<void>;
  /** Opens a connected session of the push's own. */
  connect(): Promise<pg.Client>;
  /** A failure of `action` as one line naming the queue. */
  failure(err: unknown, action: string): JobqError;
}

/** Ends a session without waiting on a dead connection. */
async function closeSession(client: pg.Client): Promise<void> {
  await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
}

export class PostgresAtomicPush implements AtomicPush {
  private held: string[] = [];
  private heldBytes = 0;
  /** The staging session, once the push outgrew `holdBytes`. */
  private session: Promise<pg.Client> | undefined;
  /** The chunk being staged: the next chunk is read while it is written. */
  private staging: Promise<void> = Promise.resolve();
  /** Messages staged, or being staged. */
  private staged = 0;

  constructor(private readonly context: PushContext) {}

  async add(bodies: readonly string[]): Promise<void> {
    for (const body of bodies) {
      this.held.push(body);
      this.heldBytes += body.length;
    }
    if (this.heldBytes >= (this.session ? chunkBytes : holdBytes)) await this.stageHeld();
  }

  async commit(): Promise<void> {
    const held = this.takeHeld();
    if (!this.session) {
      await this.context.push(held);
      return;
    }
    const total = this.staged + held.length;
    let committing = false;
    try {
      await this.staging;
      const client = await this.session;
      const timeoutMs = Math.ceil(this.context.statementTimeoutMs + total * moveMsPerMessage);
      await client.query('BEGIN');
      try {
        // Sessions commit asynchronously (backend.ts); a push is acknowledged only once it is on disk.
        await client.query(`SET LOCAL synchronous_commit = on; SET LOCAL statement_timeout = ${timeoutMs}`);
        if (held.length > 0) await this.insert(client, held);
        const move: pg.QueryConfig & { query_timeout: number } = {
          text: `INSERT INTO "${this.context.schema}".messages (queue, body) SELECT $1, body FROM pg_temp.jobq_push ORDER BY seq`,
          values: [this.context.queue],
          query_timeout: timeoutMs + 5_000,
        };
        await client.query(move);
        await client.query('SELECT pg_notify($1, $2)', [this.context.schema, this.context.queue]);
        committing = true;
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      const failure = this.context.failure(err, `push of ${total} messages`);
      // A COMMIT that got no answer (the connection died) may have happened; one the server refused did not.
      if (committing && sqlState(err) === undefined && failure instanceof BackendError) {
        throw new BackendError(failure.message, { cause: err, outcomeUnknown: true });
      }
      throw failure;
    } finally {
      await this.closeSession();
    }
  }

  async abort(): Promise<void> {
    this.takeHeld();
    await this.staging.catch(() => undefined);
    await this.closeSession();
  }

  private takeHeld(): string[] {
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    return held;
  }

  /** Stages what is held; waits for the chunk before it (whose failure rejects here), not for this one. */
  private async stageHeld(): Promise<void> {
    const bodies = this.takeHeld();
    await this.staging;
    this.session ??= this.openSession();
    const client = await this.session;
    this.staging = this.insert(client, bodies);
    // Awaited by the next add, by commit or by abort; never unhandled meanwhile.
    this.staging.catch(() => undefined);
  }

  private async openSession(): Promise<pg.Client> {
    let client: pg.Client;
    try {
      client = await this.context.connect();
    } catch (err) {
      throw this.context.failure(err, 'open a session for a large push');
    }
    try {
      await client.query('CREATE TEMP TABLE jobq_push (seq bigint NOT NULL, body text NOT NULL)');
    } catch (err) {
      await closeSession(client);
      throw this.context.failure(err, 'stage a large push');
    }
    return client;
  }

  /**
   * Stages `bodies` after those staged before, numbered in order. They go as
   * one JSON array: V8 writes it and the server reads it several times faster
   * than a text[] parameter, element by element. (The text is the same for
   * any well-formed string; jobq's bodies are ASCII, non-ASCII escaped.)
   */
  private async insert(client: pg.Client, bodies: readonly string[]): Promise<void> {
    const first = this.staged;
    this.staged += bodies.length;
    try {
      await client.query(
        'INSERT INTO pg_temp.jobq_push (seq, body) SELECT $2::bigint + n, body FROM json_array_elements_text($1::json) WITH ORDINALITY AS u(body, n)',
        [JSON.stringify(bodies), first],
      );
    } catch (err) {
      throw this.context.failure(err, `stage a push (messages ${first + 1} to ${first + bodies.length})`);
    }
  }

  private async closeSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    const client = await session?.catch(() => undefined);
    if (client) await closeSession(client);
  }
}
