/**
 * The worker's output on the command line: its log lines and the tasks'
 * stderr on stderr, the tasks' stdout on stdout, each written in batches
 * (held-writes.ts). On a terminal (SPEC §9) a status line (running, succeeded,
 * failed, rate, and done / total with an ETA once the queue's size is known)
 * stays on the last line below them: every write clears it,
 * writes, and draws it again, so nothing is lost and nothing overlaps. Off a
 * terminal there is no status line.
 */
import { PaceMeter } from '../fleet/eta.js';
import { formatSpan } from '../fleet/units.js';
import { HeldWrites } from '../log/held-writes.js';
import type { TextSink } from '../log/task-output.js';

export interface WorkerCounts {
  running: number;
  succeeded: number;
  failed: number;
}

export interface WorkerStatus {
  /** Where log lines and the tasks' stderr go. */
  readonly stderr: TextSink;
  /** Where the tasks' stdout goes. */
  readonly stdout: TextSink;
  /**
   * Starts redrawing the counts every half second; with `queueSize`, the
   * queue's size is read every 5 s for done / total and the ETA.
   */
  start(counts: () => WorkerCounts, queueSize?: () => Promise<number>): void;
  /** Removes the status line. */
  stop(): void;
}

const clearLine = '\r\x1b[K';
const sizeIntervalMs = 5_000;

/**
 * `done 600/1000 | ETA 32s`: the tasks this worker finished out of those plus
 * the ones still in the queue, and when the queue will be empty at the pace
 * it empties (every worker's), or this worker's own when that is faster.
 */
function progress(done: number, size: number | undefined, own: PaceMeter, queue: PaceMeter, firstSize: number | undefined): string {
  if (size === undefined || firstSize === undefined) return '';
  const now = performance.now();
  const pace = Math.max(own.sample(now, done), queue.sample(now, firstSize - size));
  const eta = size === 0 ? 'done' : pace > 0 ? formatSpan(size / pace) : '?';
  return ` | done ${done}/${done + size} | ETA ${eta}`;
}

export function workerStatus(): WorkerStatus {
  const err = process.stderr;
  const out = process.stdout;
  if (!err.isTTY) return { stderr: new HeldWrites(2), stdout: new HeldWrites(1), start: () => {}, stop: () => {} };
  let line = '';
  let timer: NodeJS.Timeout | undefined;
  let sizeTimer: NodeJS.Timeout | undefined;
  /** Writes `text` to `stream` with the status line out of the way. */
  const around = (stream: NodeJS.WriteStream): TextSink => ({
    write(text: string) {
      if (line === '') return stream.write(text);
      err.write(clearLine);
      stream.write(text);
      return err.write(line);
    },
  });
  return {
    stderr: around(err),
    // A stdout that is not the terminal (a file, a pipe) keeps the task's bytes only.
    stdout: out.isTTY ? around(out) : new HeldWrites(1),
    start(counts, queueSize) {
      const started = Date.now();
      let size: number | undefined;
      let firstSize: number | undefined;
      const own = new PaceMeter();
      const queue = new PaceMeter();
      const readSize = (): void => {
        queueSize?.().then(
          (n) => {
            size = n;
            firstSize ??= n;
          },
          () => undefined, // the line goes on without it
        );
      };
      const draw = (): void => {
        const now = counts();
        const done = now.succeeded + now.failed;
        const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
        line =
          `running ${now.running} | succeeded ${now.succeeded} | failed ${now.failed} | ${rate.toFixed(1)} tasks/s` +
          progress(done, size, own, queue, firstSize);
        err.write(clearLine + line);
      };
      draw();
      timer = setInterval(draw, 500);
      timer.unref();
      if (queueSize) {
        readSize();
        sizeTimer = setInterval(readSize, sizeIntervalMs);
        sizeTimer.unref();
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      if (sizeTimer) clearInterval(sizeTimer);
      if (line !== '') err.write(clearLine);
      line = '';
    },
  };
}
