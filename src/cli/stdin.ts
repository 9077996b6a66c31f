/**
 * stdin as push reads it: streamed line by line (never held whole), each line
 * with its line break as Python's `sys.stdin` gives it on Linux (split at
 * `\n` only, so `\r\n` keeps its `\r`), and refused, naming the line, when it
 * is not UTF-8.
 */
import { addAbortSignal, type Readable } from 'node:stream';
import { UsageError } from '../errors.js';

/** A line longer than this is refused rather than held in memory (64 MiB). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface InputLine {
  /** The line's text with its line break (none on a last line without one). */
  readonly text: string;
  /** 1-based. */
  readonly line: number;
}

/**
 * The lines of `input` (default stdin). Refuses a terminal with nothing piped
 * in (`hint` says what to do instead). Ends early, without an error, when
 * `signal` aborts.
 */
export async function* inputLines(hint: string, signal?: AbortSignal, input: Readable & { isTTY?: boolean } = process.stdin): AsyncGenerator<InputLine> {
  if (input.isTTY) throw new UsageError(`nothing to read: ${hint}`);
  if (signal) addAbortSignal(signal, input);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;
  const decode = (bytes: Buffer): InputLine => {
    line += 1;
    try {
      return { text: utf8.decode(bytes), line };
    } catch {
      throw new UsageError(`line ${line}: not valid UTF-8`);
    }
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      let start = 0;
      for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
        const piece = chunk.subarray(start, end + 1);
        yield decode(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
        pending = [];
        pendingBytes = 0;
        start = end + 1;
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE_BYTES) throw new UsageError(`line ${line + 1}: longer than ${MAX_LINE_BYTES} bytes`);
      }
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
  if (pending.length > 0) yield decode(Buffer.concat(pending));
}
