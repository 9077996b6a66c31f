/**
 * What every jobq command shares: the global flags, the logger they ask for,
 * opening the queue, and error reporting with the exit codes of SPEC §5.
 * Commands stay thin: parse flags, call the library, print.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import type { PostgresConnection } from '../backends/postgres/connection.js';
import { parseSpec, postgresConnection, specFromEnvironment, type QueueTarget } from '../backends/spec.js';
import { UsageError } from '../errors.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../log/logger.js';
import type { Processor } from '../processors/processor.js';
import { createProcessor } from '../processors/task-types/registry.js';
import { JobQueue } from '../queue.js';
import { withholdDatabasePassword } from './database-secrets.js';
import { exitCodeFor, formatError } from './errors.js';

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const satisfies readonly LogLevel[];

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof JobqCommand)['baseFlags'] & T['flags']>;

/** The global flags that say which queue, and how to reach it. */
export interface QueueFlags {
  queue?: string | undefined;
  'conn-str'?: string | undefined;
  'db-url'?: string | undefined;
}

export abstract class JobqCommand extends Command {
  static override baseFlags = {
    queue: Flags.string({
      summary: 'Queue spec: local/NAME, ACCOUNT/NAME or pg/NAME. Usually given before the command; env JOBQ_QUEUE.',
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
    'conn-str': Flags.string({
      summary: 'Azure Storage connection string (Azurite: UseDevelopmentStorage=true).',
      env: 'JOBQ_CONNECTION_STRING',
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
      summary: 'Log level (-v/-vv and -q/-qq are shorthands).',
      env: 'JOBQ_LOG_LEVEL',
      helpGroup: 'GLOBAL',
    })(),
  };

  private verbose = false;
  private target: QueueTarget | undefined;

  /** The logger for the parsed global flags. */
  protected makeLogger(
    flags: { 'log-format': LogFormat; 'log-level': LogLevel },
    destination?: number | NodeJS.WritableStream,
  ): Logger {
    this.verbose = flags['log-level'] === 'debug' || flags['log-level'] === 'trace';
    return createLogger({
      format: flags['log-format'],
      level: flags['log-level'],
      ...(destination === undefined ? {} : { destination }),
    });
  }

  /** Logs a warning about the task types (a plugin that failed, or returned a bad definition). */
  protected warnTaskType(logger: Logger, warning: string): void {
    logger.warn({ event: 'task_type_warning' }, warning);
  }

  /**
   * The processor that --proc names, with `numWorkers` slots; warnings about
   * the task types are logged. The queue's spec is read first, so that the
   * database password leaves the environment before any task can inherit it.
   */
  protected async makeProcessor(
    flags: QueueFlags & { proc: string; 'emulate-tty': boolean },
    numWorkers: number,
    logger: Logger,
  ): Promise<Processor> {
    this.queueTarget(flags);
    return createProcessor(flags.proc, { numWorkers, emulateTty: flags['emulate-tty'] }, this.config, (warning) =>
      this.warnTaskType(logger, warning),
    );
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

  /** Opens the queue named by the spec. */
  protected async openQueue(flags: QueueFlags): Promise<JobQueue> {
    return JobQueue.open(this.queueTarget(flags));
  }

  /** Runs `fn` with the queue open, closing it whatever happens. */
  protected async withQueue<T>(flags: QueueFlags, fn: (queue: JobQueue) => Promise<T>): Promise<T> {
    const queue = await this.openQueue(flags);
    try {
      return await fn(queue);
    } finally {
      await queue.close();
    }
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    process.stderr.write(formatError(err, this.verbose || process.env['JOBQ_DEBUG'] === '1') + '\n');
    process.exitCode = exitCodeFor(err);
  }
}
