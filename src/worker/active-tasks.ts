/** The tasks a worker runs right now, for its live row: what each runs and since when. */
import type { RunningTaskRow } from '../backends/fleet.js';

export class ActiveTasks {
  private readonly running = new Map<object, RunningTaskRow>();

  /** `owner` (its execution) started a task. */
  add(owner: object, task: RunningTaskRow): void {
    this.running.set(owner, task);
  }

  delete(owner: object): void {
    this.running.delete(owner);
  }

  get size(): number {
    return this.running.size;
  }

  list(): RunningTaskRow[] {
    return [...this.running.values()];
  }
}
