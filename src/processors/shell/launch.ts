/** What the shell processor and the two ways of starting a shell (pipes, pseudo-terminal) share. */

/** How a shell is started: file, arguments, working directory and complete environment. */
export interface ShellLaunch {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  readonly env: Record<string, string>;
}

export interface ShellExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A started shell, through pipes or a pseudo-terminal. */
export interface ShellChild {
  /** The shell's pid, which is its session's id; undefined when it could not be started. */
  readonly pid: number | undefined;
  /** Settles when the shell has exited, with an Error when it could not be started. */
  readonly exited: Promise<ShellExit | Error>;
  /** Settles when the output has been read to its end (every writer has closed it). */
  readonly drained: Promise<void>;
  /** Passes on a last unterminated line and frees the streams; later output is dropped. */
  release(): void;
  /** Whether the session guard was told of the session as the shell started (the spawn addon does that). */
  readonly announced?: boolean;
}
