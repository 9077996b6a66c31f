/**
 * The `hash` task: checksums one file, the way `sha256sum` would, but as a
 * queued task with a JSON result. The file is streamed, so its size does not
 * matter; a stop from the worker (`ctx.signal`) ends the read at once.
 *
 *   {"path": "/data/big.tar"}                      → sha256
 *   {"path": "/data/big.tar", "algorithm": "md5"}  → md5
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const algorithms = ['sha256', 'sha1', 'md5', 'sha512'] as const;
export type Algorithm = (typeof algorithms)[number];

export interface HashKwargs {
  /** The file to read; a relative path is resolved against the worker's directory. */
  path: string;
  /** Default `sha256`. */
  algorithm?: Algorithm;
}

export interface HashResult {
  /** As given in the kwargs. */
  path: string;
  algorithm: Algorithm;
  /** Lowercase hex. */
  digest: string;
  /** How many bytes were read. */
  bytes: number;
}

/** What jobq gives a function task besides its kwargs (jobq's FunctionTaskContext, restated to need no dependency). */
export interface TaskContext {
  readonly signal: AbortSignal;
  readonly taskId: string;
  log(...args: unknown[]): void;
}

const knownKeys = new Set(['path', 'algorithm']);
/**
 * Keys that `jobq push` (as ai4s-jobq's push) adds to every JSON line's
 * kwargs, for shell tasks: a function task ignores them.
 */
const pushKeys = new Set(['env', 'bg_dirsync_to']);

/** Checks the kwargs by shape: they come from a queue anyone may push to. */
export function parseKwargs(kwargs: Record<string, unknown>): Required<HashKwargs> {
  const unknown = Object.keys(kwargs).filter((key) => !knownKeys.has(key) && !pushKeys.has(key));
  if (unknown.length > 0) {
    throw new TypeError(`hash: unknown kwargs ${unknown.map((key) => `"${key}"`).join(', ')} (expected "path" and optionally "algorithm")`);
  }
  const { path, algorithm = 'sha256' } = kwargs;
  if (typeof path !== 'string' || path === '') throw new TypeError('hash: kwarg "path" must be a non-empty string');
  if (!isAlgorithm(algorithm)) {
    throw new TypeError(`hash: kwarg "algorithm" must be one of ${algorithms.join(', ')}, got ${JSON.stringify(algorithm)}`);
  }
  return { path, algorithm };
}

function isAlgorithm(value: unknown): value is Algorithm {
  return (algorithms as readonly unknown[]).includes(value);
}

/** Error codes worth a plain-words message; the rest keep Node's own. */
const readErrors: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
};

/** The task function (the module's default export, run by jobq on its thread pool). */
export default async function hash(kwargs: Record<string, unknown>, ctx: TaskContext): Promise<HashResult> {
  const { path, algorithm } = parseKwargs(kwargs);
  const hasher = createHash(algorithm);
  let bytes = 0;
  try {
    // With `signal`, an abort destroys the stream and the loop throws an AbortError.
    for await (const chunk of createReadStream(path, { signal: ctx.signal })) {
      const buffer = chunk as Buffer;
      hasher.update(buffer);
      bytes += buffer.length;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const plain = code === undefined ? undefined : readErrors[code];
    if (plain !== undefined) throw new Error(`hash: cannot read ${path}: ${plain}`, { cause: err });
    throw err;
  }
  const digest = hasher.digest('hex');
  ctx.log(`${algorithm} ${digest}  ${path}`);
  return { path, algorithm, digest, bytes };
}
