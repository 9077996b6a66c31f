/**
 * Output to a file descriptor (jobq's log lines, the tasks' output), written
 * in batches: a busy worker logs two lines per task, tens of thousands a
 * second, and each `write` cost its main thread about as much as the rest of
 * a log line. Lines wait up to `holdMs` (or until `holdChars` are waiting)
 * and go out together in one system call. Order across descriptors is kept
 * where it shows, on a terminal or in `2>&1`: a line for one descriptor
 * first writes what waits for another. What still waits when the process
 * exits is written then (`process.exit` included); a SIGKILL loses the last
 * `holdMs` of lines. Writes are synchronous (pino's SonicBoom, which retries
 * on EAGAIN). When the descriptor cannot be written (stderr closed: EPIPE),
 * lines are dropped from then on: logging never takes the process down.
 */
import { destination } from 'pino';

type SyncDestination = ReturnType<typeof destination>;

/** How long a line waits for others at most. */
const holdMs = 5;
/** Waiting lines go out at once past this many characters. */
const holdChars = 64 * 1024;

/** What the destinations share: which have lines waiting (written at exit), and which was written last. */
class Destinations {
  private readonly waiting = new Set<HeldWrites>();
  private last: HeldWrites | undefined;
  private exitHooked = false;

  /** A line for `next`: what waits for the destination written last goes out first. */
  switchTo(next: HeldWrites): void {
    if (this.last === next) return;
    this.last?.flush();
    this.last = next;
  }

  waits(writes: HeldWrites): void {
    this.waiting.add(writes);
    if (this.exitHooked) return;
    this.exitHooked = true;
    process.on('exit', () => this.waiting.forEach((waiting) => waiting.flush()));
  }

  written(writes: HeldWrites): void {
    this.waiting.delete(writes);
  }
}

const destinations = new Destinations();

export class HeldWrites {
  private readonly out: SyncDestination;
  private pending: string[] = [];
  private pendingChars = 0;
  private timer: NodeJS.Timeout | undefined;
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
    destinations.switchTo(this);
    if (this.pending.length === 0) {
      this.timer = setTimeout(this.flushNow, holdMs);
      // The exit hook writes what waits: the timer must not keep the process alive.
      this.timer.unref();
      destinations.waits(this);
    }
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= holdChars) this.flush();
    return true;
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    clearTimeout(this.timer);
    destinations.written(this);
    if (!this.broken) this.out.write(text);
  }
}
