/** Progress on a terminal (stderr); nothing otherwise. */
import { SingleBar } from 'cli-progress';
import type { PushProgress } from '../push.js';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

/** A bar of `done` out of `total`, or, with no total, a count; with the rate. */
export function progressBar(total: number | undefined, label: string): Progress {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const format =
    total === undefined
      ? `${label} {value} | {rate}/s`
      : `${label} [{bar}] {value}/{total} {percentage}% | {rate}/s | eta {eta_formatted}`;
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true });
  const started = Date.now();
  bar.start(total ?? 0, 0, { rate: 0 });
  return {
    update: (done) => bar.update(done, { rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) }),
    stop: () => bar.stop(),
  };
}

/** Push's progress: tasks checked, then (a spooled push) tasks sent out of the total. */
export function pushProgress(): { update(progress: PushProgress): void; stop(): void } {
  let phase: PushProgress['phase'] | undefined;
  let bar: Progress | undefined;
  return {
    update: (progress) => {
      if (progress.phase !== phase) {
        bar?.stop();
        phase = progress.phase;
        bar = progressBar(progress.total, progress.phase === 'checking' ? 'checked' : 'enqueued');
      }
      bar?.update(progress.done);
    },
    stop: () => bar?.stop(),
  };
}
