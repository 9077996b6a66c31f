import { setTimeout as delay } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: () => string;
}

/** Polls `condition` until it holds, failing after the deadline (never a bare sleep). */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(options.message?.() ?? 'condition not met before the deadline');
    await delay(options.intervalMs ?? 50);
  }
}

/** Polls `probe` until it returns a value other than undefined, failing after the deadline. */
export async function waitForValue<T>(probe: () => T | undefined | Promise<T | undefined>, options: WaitOptions = {}): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await probe()) !== undefined, options);
  return value as T;
}

/** Whether `promise` is still pending after `ms` (the one kind of test that must wait a fixed time). */
export async function stillPending(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await delay(ms);
  return !settled;
}
