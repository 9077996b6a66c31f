/**
 * What every jobq command shares: the global flags, the logger they ask for,
 * opening the queue, and error reporting with the exit codes of SPEC §5.
 * Commands stay thin: parse flags, call the library, print.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { retryThroughOutages } from '../backends/outage-retry.js';
import { specFromEnvironment, type SpecEnvironment } from '../backends/spec.js';
import { errorMessage } from '../errors.js';
import { createLogger, type LogFormat, type LogLevel, type Logger } from '../log/logger.js';
import type { Processor } from '../processors/processor.js';
import { createProcessor } from '../processors/task-types/registry.js';
import { JobQueue } from '../queue.js';
import { exitCodeFor, formatError } from './errors.js';

const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const satisfies readonly LogLevel[];

/** How a command opens its queue. */
export interface OpenOptions {
  /** Wait out a storage outage at start-up, telling this logger (the worker, pull and push do); default: fail at once. */
  readonly retryOutages?: Logger;
}

/** The global flags that give a connection string. */
interface ConnectionFlags {
  'conn-str'?: string | undefined;
  'conn-str-file'?: string | undefined;
}

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof JobqCommand)['baseFlags'] & T['flags']>;

export abstract class JobqCommand extends Command {
  static override baseFlags = {
    queue: Flags.string({
      summary: 'Queue spec: local/NAME or ACCOUNT/NAME. Usually given before the command; env JOBQ_QUEUE.',
      helpGroup: 'GLOBAL',
    }),
    'conn-str': Flags.string({
      summary: 'Azure Storage connection string (Azurite: UseDevelopmentStorage=true); env JOBQ_CONNECTION_STRING.',
      description:
        'Any user of this machine can read a command line (ps): prefer --conn-str-file or the environment. ' +
        'The connection string never reaches a task\'s environment.',
      exclusive: ['conn-str-file'],
      helpGroup: 'GLOBAL',
    }),
    'conn-str-file': Flags.string({
      summary: 'File that holds the Azure Storage connection string, so the key is on no command line; env JOBQ_CONNECTION_STRING_FILE.',
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

  /** The logger for the parsed global flags. */
  protected makeLogger(
    flags: { 'log-format': LogFormat; 'log-level': LogLevel },
    destination?: number | NodeJS.WritableStream,
  ): Logger {
    this.verbose = flags['log-level'] === 'debug' || flags['log-level'] === 'trace';
    const logger = createLogger({
      format: flags['log-format'],
      level: flags['log-level'],
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

  /** Logs a warning about the task types (a plugin that failed, or returned a bad definition). */
  protected warnTaskType(logger: Logger, warning: string): void {
    logger.warn({ event: 'task_type_warning' }, warning);
  }

  /** The processor that --proc names, with `numWorkers` slots; warnings about the task types are logged. */
  protected async makeProcessor(
    flags: { proc: string; 'emulate-tty': boolean },
    numWorkers: number,
    logger: Logger,
  ): Promise<Processor> {
    return createProcessor(flags.proc, { numWorkers, emulateTty: flags['emulate-tty'], logger }, this.config, (warning) =>
      this.warnTaskType(logger, warning),
    );
  }

  /** How the spec finds its connection string: --conn-str, --conn-str-file, else the environment. */
  protected specEnvironment(flags: ConnectionFlags): SpecEnvironment {
    return { connectionString: flags['conn-str'], connectionStringFile: flags['conn-str-file'] };
  }

  /**
   * Opens the queue named by the spec (argument, --queue or environment).
   * With `options.retryOutages` (the logger to tell), a storage outage at
   * start-up (unreachable, not answering, 429, 503) is waited out, with a line
   * about each failure, as a running worker waits; otherwise it fails at once.
   */
  protected async openQueue(
    flags: ConnectionFlags & { queue?: string | undefined },
    options: OpenOptions = {},
  ): Promise<JobQueue> {
    const open = (): Promise<JobQueue> => JobQueue.open(specFromEnvironment(flags.queue), this.specEnvironment(flags));
    const logger = options.retryOutages;
    if (logger === undefined) return open();
    return retryThroughOutages(open, {
      onRetry: (err, delayMs) =>
        logger.error(
          { event: 'backend_error', retry_in_ms: delayMs },
          `cannot reach the queue: ${errorMessage(err)}; retrying in ${delayMs} ms`,
        ),
    });
  }

  /** Runs `fn` with the queue open (see openQueue), closing it whatever happens. */
  protected async withQueue<T>(
    flags: ConnectionFlags & { queue?: string | undefined },
    fn: (queue: JobQueue) => Promise<T>,
    options: OpenOptions = {},
  ): Promise<T> {
    const queue = await this.openQueue(flags, options);
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
