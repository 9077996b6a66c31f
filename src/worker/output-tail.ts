/** The last `limit` lines of a task's output, kept for its dead-letter record. */
export class OutputTail {
  private readonly lines: string[] = [];

  constructor(private readonly limit = 100) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
  }

  toArray(): string[] {
    return [...this.lines];
  }
}
