/**
 * Splits a stream of text into lines as it arrives. A line ends at `\n`, at
 * `\r\n` (a pseudo-terminal's line end) or at a lone `\r` (a progress bar
 * redrawing itself), so a pipe and a pseudo-terminal give the same clean lines
 * and no line carries a stray carriage return. `end()` flushes a last line that
 * has no line end.
 */

/** Line ends: any `\r`s before a `\n`, or a run of `\r`s followed by text. */
const LINE_END = /\r*\n|\r+(?=[^\r\n])/g;

/** A line longer than this is passed on in pieces, so a stream without line ends cannot grow memory without bound. */
const DEFAULT_MAX_LINE_LENGTH = 64 * 1024;

export class LineSplitter {
  /** Text after the last line end: the start of the next line (may end in `\r`s whose meaning the next chunk decides). */
  private rest = '';
  private ended = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLineLength: number = DEFAULT_MAX_LINE_LENGTH,
  ) {}

  /** Adds a chunk of text; every line it completes is passed on at once. Ignored after `end()`. */
  push(text: string): void {
    if (this.ended || text === '') return;
    const buffer = this.rest + text;
    let start = 0;
    for (const match of buffer.matchAll(LINE_END)) {
      this.onLine(buffer.slice(start, match.index));
      start = match.index + match[0].length;
    }
    this.rest = buffer.slice(start);
    while (this.rest.length > this.maxLineLength) {
      this.onLine(this.rest.slice(0, this.maxLineLength));
      this.rest = this.rest.slice(this.maxLineLength);
    }
  }

  /** Passes on the last, unterminated line (if any); later pushes are ignored. Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const last = this.rest.replace(/\r+$/, '');
    this.rest = '';
    if (last !== '') this.onLine(last);
  }
}
