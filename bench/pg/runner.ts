/** What the PostgreSQL bench's runners share. */

/** Wall-clock time in ms with sub-millisecond precision, comparable between processes of one machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Calls `send(from, to)` for consecutive ranges of `size` (100) up to `total`, `concurrency` (10) at once: jobq's pushTasks defaults. */
export async function inBatches(total: number, send: (from: number, to: number) => Promise<unknown>, size = 100, concurrency = 10): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const from = next;
      next = Math.min(total, next + size);
      await send(from, next);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** Resolves when stdin ends: how the bench tells an idle runner to stop (no signal handlers outside src/signals). */
export function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once('end', resolve).once('close', resolve).resume();
  });
}
