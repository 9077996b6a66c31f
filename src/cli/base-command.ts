/**
 * What every jobq command shares: the global flags, the logger they ask for,
 * opening the queue, and error reporting with the exit codes of SPEC §5.
 * Commands stay thin: parse flags, call the library, print.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import type { PostgresConnection } from '../backends/postgres/connection.js';
import { parseSpec, postgresConnection, specFromEnvironment, type QueueTarget } from '../backends/spec.js';
import { retryThroughOutages } from '../backends/outage-retry.js';
import { errorMessage, UsageError } from '../errors.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../log/logger.js';
import type { TextSink } from '../log/task-output.js';
import { exitCodeForError } from '../exit-codes.js';
import { readEnvironment } from '../options/environment.js';
import type { RunWorkerOptions } from '../api/run.js';
import { JobQueue } from '../queue/job-queue.js';
import { formatError } from './errors.js';
import { withholdDatabasePassword } from './database-secrets.js';

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const satisfies readonly LogLevel[];

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof JobqCommand)['baseFlags'] & T['flags']>;

/** The global flags that say which queue, and how to reach it. */
export interface QueueFlags {
  queue?: string | undefined;
  'conn-str'?: string | undefined;
  'conn-str-file'?: string | undefined;
  'db-url'?: string | undefined;
}

/** How a command opens its queue. */
export interface OpenOptions {
  /** Wait out a storage outage at start-up, telling this logger (the worker, pull and push do); default: fail at once. */
  readonly retryOutages?: Logger;
}

export abstract class JobqCommand extends Command {
  static override baseFlags = {
    queue: Flags.string({
      summary:
        'Queue spec: local/NAME, ACCOUNT/NAME or pg/NAME. Usually given before the command; env JOBQ_STORAGE_QUEUE, or JOBQ_STORAGE + JOBQ_QUEUE.',
      helpGroup: 'GLOBAL',
    }),
    // No `env` here: spec.ts reads JOBQ_DATABASE_URL, DATABASE_URL and the PG* variables in that order.
    'db-url': Flags.string({
      summary: 'PostgreSQL database of pg/NAME queues: postgres://USER@HOST:PORT/DATABASE.',
      description:
        'Default: JOBQ_DATABASE_URL, else DATABASE_URL, else the PG* variables (PGHOST, PGUSER, ...). Prefer ' +
        'JOBQ_DATABASE_URL to this flag when the URL holds a password: command lines show in ps.',
      helpGroup: 'GLOBAL',
    }),
    // No `env` here: spec.ts reads JOBQ_CONNECTION_STRING and JOBQ_CONNECTION_STRING_FILE, after both flags.
    'conn-str': Flags.string({
      summary: 'Azure Storage connection string (Azurite: UseDevelopmentStorage=true); env JOBQ_CONNECTION_STRING.',
      description:
        'Any user of this machine can read a command line (ps): prefer --conn-str-file or the environment. ' +
        "The connection string never reaches a task's environment.",
      exclusive: ['conn-str-file'],
      helpGroup: 'GLOBAL',
    }),
    'conn-str-file': Flags.string({
      summary:
        'File that holds the Azure Storage connection string, so the key is on no command line; env JOBQ_CONNECTION_STRING_FILE.',
      helpGroup: 'GLOBAL',
    }),
    'log-format': Flags.option({
      options: ['text', 'json'] as const,
      default: 'text' as const,
      summary: 'Log lines as text or as JSON objects.',
      helpGroup: 'GLOBAL',
    })(),
    'log-level': Flags.option({
      options: logLevels,
      default: 'info' as const,
      summary: 'Log level; -v/-vv and -q/-qq (anywhere on the line) are shorthands.',
      env: 'JOBQ_LOG_LEVEL',
      helpGroup: 'GLOBAL',
    })(),
  };

  private target: QueueTarget | undefined;

  /** The logger for the parsed global flags. */
  protected makeLogger(flags: { 'log-format': LogFormat; 'log-level': LogLevel }, destination?: TextSink): Logger {
    const logger = createLogger({
      format: flags['log-format'],
      level: flags['log-level'],
      color: process.stderr.isTTY && !readEnvironment().noColor,
      ...(destination === undefined ? {} : { destination }),
    });
    if (this.argv.some((token) => token === '--conn-str' || token.startsWith('--conn-str='))) {
      logger.warn(
        { event: 'secret_on_command_line' },
        '--conn-str puts the storage key on the command line, where any user of this machine can read it; ' +
          'use --conn-str-file or JOBQ_CONNECTION_STRING',
      );
    }
    return logger;
  }

  /** What the worker and pull commands give a worker: where task output goes, and how long a task's description may be in a log line. */
  protected workerOutput(status: { stdout: TextSink; stderr: TextSink }): Pick<RunWorkerOptions, 'taskOutput' | 'describeWidth'> {
    // On a terminal a log line fits its width (the time, level and task id take about 80 columns).
    const columns = process.stderr.isTTY ? process.stderr.columns : undefined;
    return { taskOutput: status, describeWidth: columns === undefined ? 500 : Math.max(20, columns - 80) };
  }

  /** Where `--proc` finds task types: this CLI's plugins, with warnings about them logged. */
  protected taskTypes(logger: Logger): NonNullable<RunWorkerOptions['taskTypes']> {
    return { config: this.config, warn: (warning) => this.warnTaskType(logger, warning) };
  }

  /** Logs a warning about the task types (a plugin that failed, or returned a bad definition). */
  protected warnTaskType(logger: Logger, warning: string): void {
    logger.warn({ event: 'task_type_warning' }, warning);
  }

  /**
   * The queue the spec names (argument, --queue or environment), parsed once.
   * A PostgreSQL queue's password then leaves the environment and the process
   * title (database-secrets.ts).
   */
  protected queueTarget(flags: QueueFlags): QueueTarget {
    if (this.target === undefined) {
      this.target = parseSpec(specFromEnvironment(flags.queue), {
        connectionString: flags['conn-str'],
        connectionStringFile: flags['conn-str-file'],
        databaseUrl: flags['db-url'],
      });
      withholdDatabasePassword(this.target);
    }
    return this.target;
  }

  /** The PostgreSQL database of the pg/NAME or postgres:// spec given, else of --db-url and the environment. */
  protected postgresConnection(flags: QueueFlags): PostgresConnection {
    if (flags.queue === undefined) return postgresConnection({ databaseUrl: flags['db-url'] });
    const target = this.queueTarget(flags);
    if (target.kind !== 'postgres') {
      throw new UsageError(`${flags.queue} is not a PostgreSQL queue: only pg/NAME and postgres:// queues have a schema`);
    }
    return target.connection;
  }

  /**
   * Opens the queue named by the spec. With `options.retryOutages` (the
   * logger to tell), a storage outage at start-up (unreachable, not
   * answering, 429, 503) is waited out, with a line about each failure, as a
   * running worker waits; otherwise it fails at once.
   */
  protected async openQueue(flags: QueueFlags, options: OpenOptions = {}): Promise<JobQueue> {
    const target = this.queueTarget(flags);
    const logger = options.retryOutages;
    if (logger === undefined) return JobQueue.open(target);
    return retryThroughOutages(() => JobQueue.open(target), {
      onRetry: (err, delayMs) =>
        logger.error(
          { event: 'backend_error', retry_in_ms: delayMs },
          `cannot reach the queue: ${errorMessage(err)}; retrying in ${delayMs} ms`,
        ),
    });
  }

  /**
   * Runs `fn` with the queue opening (see openQueue): `fn` may start what
   * does not need it meanwhile; the queue is closed whatever happens.
   */
  protected async withOpeningQueue<T>(flags: QueueFlags, fn: (queue: Promise<JobQueue>) => Promise<T>, options: OpenOptions = {}): Promise<T> {
    const opening = this.openQueue(flags, options);
    // Handled at once: fn may fail before it awaits the queue, whose failure then goes unsaid.
    opening.catch(() => undefined);
    try {
      return await fn(opening);
    } finally {
      await opening.then((queue) => queue.close(), () => undefined);
    }
  }

  /** Runs `fn` with the queue open (see openQueue), closing it whatever happens. */
  protected withQueue<T>(flags: QueueFlags, fn: (queue: JobQueue) => Promise<T>, options: OpenOptions = {}): Promise<T> {
    return this.withOpeningQueue(flags, async (opening) => fn(await opening), options);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    process.stderr.write(formatError(err, this.verbose()) + '\n');
    process.exitCode = exitCodeForError(err);
  }

  /** Whether errors come with their stack: -v (debug) or more, or JOBQ_DEBUG=1. */
  private verbose(): boolean {
    let environment;
    try {
      environment = readEnvironment();
    } catch {
      return false; // the error being reported may be that very variable
    }
    const index = this.argv.lastIndexOf('--log-level');
    const level = index === -1 ? environment.logLevel : this.argv[index + 1];
    return level === 'debug' || level === 'trace' || environment.debug;
  }
}
