/**
 * The loop under every detector: run a round, wait what the round asked, run
 * the next, until stopped. A round never throws in normal use (it reports its
 * own failures); anything it throws all the same is handed to `onUnexpected`
 * and the loop goes on after `retryDelayMs`. `stop()` aborts the round in
 * flight (its request) and the wait, and resolves when the loop has ended;
 * every later call returns the same promise.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface PollLoopOptions {
  /** One round; resolves with how long to wait before the next, ms. */
  round(signal: AbortSignal): Promise<number>;
  /** A round threw (a bug): reported, and the loop goes on. */
  onUnexpected(err: unknown): void;
  /** The wait after a round that threw, ms. */
  retryDelayMs: number;
}

export class PollLoop {
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(private readonly options: PollLoopOptions) {}

  start(): void {
    if (this.running !== undefined || this.controller.signal.aborted) return;
    this.running = this.run(this.controller.signal);
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.controller.abort();
      await this.running;
    })();
    return this.stopped;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let wait: number;
      try {
        wait = await this.options.round(signal);
      } catch (err) {
        if (signal.aborted) return;
        this.options.onUnexpected(err);
        wait = this.options.retryDelayMs;
      }
      try {
        await delay(wait, undefined, { signal });
      } catch {
        return; // aborted: stopping
      }
    }
  }
}
