import { Args } from '@oclif/core';
import { JobqCommand } from '../cli/base-command.js';
import { findSpec, parseSpec } from '../backends/spec.js';
import { signalForAction, signalWorkers, type SignalAction } from '../signals/pid-files.js';

export default class SignalCommand extends JobqCommand {
  static override summary = 'Signal every worker on this machine (of the queue, if one is given).';
  static override description =
    'drain: SIGUSR1, finish running tasks and exit; stop: SIGUSR2, release running tasks and exit; ' +
    'preempt: SIGTERM, as a preemption. Workers are found through their PID files in JOBQ_PID_DIR; a file whose ' +
    'process is gone, or whose pid now names another process (a different start time), is removed, never signalled. ' +
    'A PID folder that is not yours, or that others can write to, is refused (exit 1).';
  static override args = {
    action: Args.string({ options: Object.keys(signalForAction), required: true, description: 'drain, stop or preempt' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SignalCommand);
    const queue = findSpec(flags.queue);
    const name = queue === undefined ? undefined : parseSpec(queue, { connectionString: flags['conn-str'], connectionStringFile: flags['conn-str-file'] }).name;
    const action = args.action as SignalAction;
    const pids = signalWorkers(action, name);
    this.logToStderr(`sent ${signalForAction[action]} to ${pids.length} worker(s)${pids.length ? `: ${pids.join(' ')}` : ''}`);
  }
}
