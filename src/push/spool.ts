/**
 * A temporary file of checked messages, so that a push to a backend without
 * atomic pushes (Azure) can check its whole input before it sends anything,
 * without holding the input in memory. One record a line: the task's input
 * line number (or nothing), a tab, its origin (`line 12`), a tab, the message
 * body (a body is printable ASCII: the wire format escapes everything else).
 * The folder is owner-only and removed by `dispose`.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface SpooledMessage {
  /** 0-based position in the push. */
  readonly index: number;
  readonly origin: string;
  readonly line: number | undefined;
  readonly body: string;
}

export class Spool {
  private count = 0;
  private writeError: Error | undefined;

  private constructor(
    private readonly dir: string,
    private readonly file: string,
    private readonly out: WriteStream,
  ) {
    out.on('error', (err) => (this.writeError ??= err));
  }

  static async create(): Promise<Spool> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jobq-push-'));
    const file = path.join(dir, 'messages');
    return new Spool(dir, file, createWriteStream(file, { mode: 0o600 }));
  }

  /** Messages appended so far. */
  get size(): number {
    return this.count;
  }

  async append(from: { readonly origin: string; readonly line?: number }, body: string): Promise<void> {
    if (this.writeError) throw this.writeError;
    this.count += 1;
    if (!this.out.write(`${from.line ?? ''}\t${from.origin}\t${body}\n`)) await once(this.out, 'drain');
  }

  /** Closes the file for writing; then `messages` reads it back. */
  async finish(): Promise<void> {
    this.out.end();
    await once(this.out, 'close');
    if (this.writeError) throw this.writeError;
  }

  /** The messages in the order appended. */
  async *messages(): AsyncGenerator<SpooledMessage> {
    const lines = createInterface({ input: createReadStream(this.file), crlfDelay: Number.POSITIVE_INFINITY });
    let index = 0;
    for await (const record of lines) {
      const first = record.indexOf('\t');
      const second = record.indexOf('\t', first + 1);
      const line = record.slice(0, first);
      yield { index, line: line === '' ? undefined : Number(line), origin: record.slice(first + 1, second), body: record.slice(second + 1) };
      index += 1;
    }
  }

  /** Removes the file and its folder (idempotent). */
  async dispose(): Promise<void> {
    if (!this.out.closed) this.out.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}
