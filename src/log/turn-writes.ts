/**
 * Log output to a file descriptor, written once per event-loop turn: the
 * lines logged in one turn (a busy worker logs two per task, tens of
 * thousands a second) go out together at its end, in one system call instead
 * of one each. What is still waiting when the process exits is written then
 * (`process.exit` included); a SIGKILL loses the lines of the turn it cuts
 * short. Writes are synchronous (pino's SonicBoom, which retries on EAGAIN).
 * When the descriptor cannot be written (stderr closed: EPIPE), lines are
 * dropped from then on: logging never takes the process down.
 */
import { destination } from 'pino';

type SyncDestination = ReturnType<typeof destination>;

export class TurnWrites {
  private readonly out: SyncDestination;
  private pending: string[] = [];
  private broken = false;
  private readonly flushNow = (): void => this.flush();

  constructor(fd: number) {
    this.out = destination({ dest: fd, sync: true });
    this.out.on('error', () => {
      this.broken = true;
    });
  }

  /** Called by pino (json) or TextLines (text) with whole lines. */
  write(text: string): boolean {
    if (this.broken) return true;
    if (this.pending.length === 0) {
      setImmediate(this.flushNow);
      process.once('exit', this.flushNow);
    }
    this.pending.push(text);
    return true;
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    process.removeListener('exit', this.flushNow);
    if (!this.broken) this.out.write(text);
  }
}
