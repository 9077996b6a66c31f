/**
 * What runs a task: a processor starts a task and hands back a handle the
 * worker uses to wait for it and to stop it. The worker owns the policy (when
 * to stop, when to escalate to kill, how to settle); a processor owns only the
 * mechanics of its kind of task (child processes, threads).
 */
import type { Task } from '../task/task.js';

export type OutputStream = 'stdout' | 'stderr';

export interface TaskContext {
  readonly task: Task;
  /** The queue's name, given to the task as JOBQ_QUEUE_NAME. */
  readonly queueName: string;
  /** One line of the task's output (without its newline). */
  log(line: string, stream: OutputStream): void;
  /** The task starts now: a processor that takes tasks ahead (`takesAhead`) calls it, maybe within `start`. */
  started?(): void;
}

interface OutcomeOfAnyEnd {
  /**
   * The task had already ended when stop() was called, so the stop did not
   * reach it: it is settled by its outcome instead of being released
   * (default false: a stopped task is released, whatever its outcome).
   */
  readonly endedBeforeStop?: boolean;
}

export type TaskOutcome = OutcomeOfAnyEnd &
  (
    | { readonly ok: true; readonly result?: unknown }
    | {
        readonly ok: false;
        /** A one-line description: "exit code 3", "killed by SIGKILL", an error message. */
        readonly error: string;
        readonly exitCode?: number | null;
        readonly signal?: NodeJS.Signals | null;
        /** A stack trace or other detail for the dead-letter record. */
        readonly detail?: string;
      }
  );

export interface RunningTask {
  /** Settles when the task is over and its output drained; never rejects. */
  readonly done: Promise<TaskOutcome>;
  /** Asks the whole task to stop (SIGTERM to every process, or an abort signal). Idempotent. */
  stop(): void;
  /** Ends the task at once (SIGKILL, thread termination). Idempotent. */
  kill(): void;
}

export interface Processor {
  /** The task type's name, such as `shell`. */
  readonly name: string;
  /** What a task runs, for logs: the command of a shell task (default: its kwargs as JSON). */
  describe?(task: Task): string;
  /**
   * How many tasks a slot may hand it ahead of the one it runs (default 0):
   * they wait, leased, until it starts them, and it tells each task's context
   * when it does (`started`). A task that has not started when it is stopped
   * ends without running (its outcome is then released, not failed).
   */
  readonly takesAhead?: number;
  start(context: TaskContext): RunningTask;
  /** Frees the processor's resources (thread pools); running tasks must be over. */
  close(): Promise<void>;
}

/** What a task type's processor is made with. */
export interface ProcessorOptions {
  /** Slots that will run tasks at once (thread pools size themselves by it). */
  numWorkers: number;
  /** Run shell tasks under a pseudo-terminal. */
  emulateTty: boolean;
  /**
   * How long a stopped task may take to exit before it is killed, ms (the
   * worker's kill timeout; the shell's session guard uses it when the worker dies).
   */
  killTimeoutMs: number;
  /** Where a processor reports trouble outside any task, one line each (default: process warnings). */
  warn?: (message: string) => void;
}
