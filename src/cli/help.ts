/**
 * jobq's help (package.json `oclif.helpClass`): oclif's, with the usage as
 * jobq takes it, `jobq [SPEC] COMMAND [FLAGS]`, the spec forms, and the
 * global flags that the entry point handles itself (`-v`, `-q`; see argv.ts).
 */
import { CommandHelp, Help } from '@oclif/core';

/** Commands that take a queue show `[SPEC]` before their name in their usage line. */
class JobqCommandHelp extends CommandHelp {
  protected override usage(): string {
    const usage = super.usage();
    if (this.command.flags['queue'] === undefined) return usage;
    const bin = `$ ${this.config.bin} `;
    return usage.startsWith(bin) ? `${bin}[SPEC] ${usage.slice(bin.length)}` : usage;
  }
}

export default class JobqHelp extends Help {
  protected override CommandHelpClass = JobqCommandHelp;

  override formatRoot(): string {
    const bin = this.config.bin;
    const list = (rows: string[][]): string => this.renderList(rows, { indentation: 2, spacer: '  ', stripAnsi: true, multiline: true });
    return [
      this.config.pjson.description ?? '',
      this.section('VERSION', this.wrap(this.config.userAgent)),
      this.section('USAGE', this.wrap(`$ ${bin} [SPEC] COMMAND [FLAGS]`)),
      this.section(
        'SPEC',
        list([
          ['local/NAME', 'queue NAME in this machine\'s SQLite file ($JOBQ_HOME/jobq.db)'],
          ['ACCOUNT/NAME', 'Azure Storage queue NAME of storage account ACCOUNT (Entra ID login, or --conn-str)'],
          [
            'no spec',
            'JOBQ_STORAGE_QUEUE (a spec), else JOBQ_QUEUE if it holds a spec, else JOBQ_STORAGE (an account, or local) ' +
              'with JOBQ_QUEUE (a name), as `ai4s-jobq amlt` sets them',
          ],
        ]),
      ),
      this.section(
        'GLOBAL FLAGS (before or after the spec or the command)',
        list([
          ['-v, -vv', 'more log detail (info, then debug, then trace); -v also prints stack traces of errors'],
          ['-q, -qq', 'less log detail (warnings, then errors only, then nothing)'],
          ['--conn-str=<value>', 'Azure Storage connection string (env JOBQ_CONNECTION_STRING)'],
          ['--log-format=<option>', 'text (default) or json'],
          ['--log-level=<option>', 'trace, debug, info (default), warn, error or silent (env JOBQ_LOG_LEVEL)'],
          ['--queue=<value>', 'the queue spec, as a flag'],
        ]),
      ),
      this.section('EXIT CODES', list([['0', 'done'], ['1', 'failure'], ['2', 'usage error'], ['130', 'interrupted (SIGINT)']])),
    ].join('\n\n');
  }
}
