/**
 * The control channel: instead of the reference's separate Service Bus topic,
 * control messages live in a queue of the same backend, `NAME-control`.
 * `jobq downscale --nodes N` puts N messages there; each worker process takes
 * at most one, then stops gracefully (as SIGUSR2) or drains (as SIGUSR1).
 * Messages carry an expiry so that a downscale nobody took does not stop
 * workers started much later; expired ones are deleted unread.
 */
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';

export type ControlAction = 'stop' | 'drain';

export interface ControlMessage {
  readonly action: ControlAction;
  readonly expires_at: string;
}

export function controlMessage(action: ControlAction, ttlMs: number, now = Date.now()): string {
  return JSON.stringify({ action, expires_at: new Date(now + ttlMs).toISOString() } satisfies ControlMessage);
}

function readControl(body: string): ControlMessage | undefined {
  try {
    const value = JSON.parse(body) as Partial<ControlMessage>;
    if ((value.action === 'stop' || value.action === 'drain') && typeof value.expires_at === 'string') {
      return value as ControlMessage;
    }
  } catch {
    // not a control message
  }
  return undefined;
}

export interface ControlListenerOptions {
  /** Takes (leases and deletes) the next control message of the queue; undefined when there is none. */
  take(): Promise<string | undefined>;
  intervalMs: number;
  logger: Logger;
  /** Whether the worker may take a control message now (not while it is already stopping or braced). */
  isListening(): boolean;
  onAction(action: ControlAction): void;
}

export class ControlListener {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private done = false;

  constructor(private readonly options: ControlListenerOptions) {}

  start(): this {
    const tick = (): void => {
      this.polling = this.poll().finally(() => {
        if (!this.done) this.timer = setTimeout(tick, this.options.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.options.intervalMs);
    return this;
  }

  async stop(): Promise<void> {
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
  }

  private async poll(): Promise<void> {
    const { logger } = this.options;
    if (!this.options.isListening()) return;
    try {
      for (;;) {
        const body = await this.options.take();
        if (body === undefined) return;
        const message = readControl(body);
        if (!message) {
          logger.warn({ event: 'control_invalid' }, `ignored an invalid control message: ${body.slice(0, 200)}`);
          continue;
        }
        if (Date.parse(message.expires_at) < Date.now()) continue;
        logger.warn({ event: 'control', action: message.action }, `control message: ${message.action}`);
        this.done = true;
        this.options.onAction(message.action);
        return;
      }
    } catch (err) {
      logger.warn({ event: 'control_error' }, `cannot read the control queue: ${errorMessage(err)}`);
    }
  }
}
