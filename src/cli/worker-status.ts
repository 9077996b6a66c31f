/**
 * The worker's status line on a terminal (SPEC §9): running, succeeded,
 * failed and rate, kept on the last line below the log lines. Log output goes
 * through `destination`, which clears the status line, writes the log lines
 * and draws the status line again, so nothing is lost and nothing overlaps.
 * Off a terminal there is no status line and logs go straight to stderr.
 */
import { Writable } from 'node:stream';

export interface WorkerCounts {
  running: number;
  succeeded: number;
  failed: number;
}

export interface WorkerStatus {
  /** Where log output goes: stderr, or above the status line. */
  readonly destination: number | NodeJS.WritableStream;
  /** Starts redrawing the counts every half second. */
  start(counts: () => WorkerCounts): void;
  /** Removes the status line. */
  stop(): void;
}

const clearLine = '\r\x1b[K';

export function workerStatus(stream: NodeJS.WriteStream = process.stderr): WorkerStatus {
  if (!stream.isTTY) return { destination: 2, start: () => {}, stop: () => {} };
  let line = '';
  let timer: NodeJS.Timeout | undefined;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stream.write(clearLine + chunk.toString() + line, () => callback());
    },
  });
  return {
    destination,
    start(counts) {
      const started = Date.now();
      const draw = (): void => {
        const now = counts();
        const rate = (now.succeeded + now.failed) / Math.max(0.001, (Date.now() - started) / 1000);
        line = `running ${now.running} | succeeded ${now.succeeded} | failed ${now.failed} | ${rate.toFixed(1)} tasks/s`;
        stream.write(clearLine + line);
      };
      draw();
      timer = setInterval(draw, 500);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      if (line !== '') stream.write(clearLine);
      line = '';
    },
  };
}
