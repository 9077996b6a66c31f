/**
 * The worker's output on the command line: its log lines and the tasks'
 * stderr on stderr, the tasks' stdout on stdout, each written once per
 * event-loop turn. On a terminal (SPEC §9) a status line (running, succeeded,
 * failed, rate) stays on the last line below them: every write clears it,
 * writes, and draws it again, so nothing is lost and nothing overlaps. Off a
 * terminal there is no status line.
 */
import { TurnWrites } from '../log/turn-writes.js';
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
  /** Starts redrawing the counts every half second. */
  start(counts: () => WorkerCounts): void;
  /** Removes the status line. */
  stop(): void;
}

const clearLine = '\r\x1b[K';

export function workerStatus(): WorkerStatus {
  const err = process.stderr;
  const out = process.stdout;
  if (!err.isTTY) return { stderr: new TurnWrites(2), stdout: new TurnWrites(1), start: () => {}, stop: () => {} };
  let line = '';
  let timer: NodeJS.Timeout | undefined;
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
    stdout: out.isTTY ? around(out) : new TurnWrites(1),
    start(counts) {
      const started = Date.now();
      const draw = (): void => {
        const now = counts();
        const rate = (now.succeeded + now.failed) / Math.max(0.001, (Date.now() - started) / 1000);
        line = `running ${now.running} | succeeded ${now.succeeded} | failed ${now.failed} | ${rate.toFixed(1)} tasks/s`;
        err.write(clearLine + line);
      };
      draw();
      timer = setInterval(draw, 500);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (line !== '') err.write(clearLine);
      line = '';
    },
  };
}
