/**
 * JOBQ_SIGNAL_MAP: what a process signal means on a given scheduler, e.g.
 * `USR1=preempt,USR2=drain` for a Slurm job started with
 * `--signal=B:USR1@120`. Entries are `SIGNAL=ACTION`, separated by commas;
 * signal names in any case, with or without `SIG`. Signals the map leaves
 * out keep their meaning (SPEC §6.1).
 *
 * Actions (each the meaning one signal has by default):
 *   preempt    as SIGTERM: no new tasks, SIGTERM to the running ones, which
 *              are released; brace to be killed, resume if not
 *   drain      as SIGUSR1: no new tasks, let the running ones finish, exit 0
 *   stop       as SIGUSR2: no new tasks, SIGTERM to the running ones, which
 *              are released, exit 0
 *   interrupt  as SIGINT: as stop, exit 130; repeated, it escalates
 *   ignore     logged, nothing else
 */
import { UsageError } from '../errors.js';

export const signalActions = ['preempt', 'drain', 'stop', 'interrupt', 'ignore'] as const;
export type SignalAction = (typeof signalActions)[number];

/** The signals a map may name: those schedulers send ahead of the end. SIGKILL and SIGSTOP cannot be caught. */
export const mappableSignals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGXCPU'] as const;
export type MappableSignal = (typeof mappableSignals)[number];

export type SignalMap = ReadonlyMap<MappableSignal, SignalAction>;

/** What the signals jobq listens to mean when no map is given. */
export const defaultSignalMap: SignalMap = new Map<MappableSignal, SignalAction>([
  ['SIGTERM', 'preempt'],
  ['SIGINT', 'interrupt'],
  ['SIGUSR1', 'drain'],
  ['SIGUSR2', 'stop'],
]);

/** The default map with the entries of `text` over it; `variable` names the source in errors. */
export function parseSignalMap(text: string, variable = 'JOBQ_SIGNAL_MAP'): SignalMap {
  const map = new Map(defaultSignalMap);
  const seen = new Set<MappableSignal>();
  const bad = (why: string): UsageError => new UsageError(`invalid ${variable} "${text}": ${why}`);
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const match = /^\s*([A-Za-z0-9]+)\s*=\s*([A-Za-z]+)\s*$/.exec(entry);
    if (!match) throw bad(`"${entry.trim()}" is not SIGNAL=ACTION (e.g. USR1=preempt)`);
    const name = (match[1] ?? '').toUpperCase();
    const signal = (name.startsWith('SIG') ? name : `SIG${name}`) as MappableSignal;
    const action = (match[2] ?? '').toLowerCase() as SignalAction;
    if (!mappableSignals.includes(signal)) {
      throw bad(`unknown signal ${match[1]}; expected one of ${mappableSignals.map((s) => s.slice(3)).join(', ')}`);
    }
    if (!signalActions.includes(action)) {
      throw bad(`unknown action ${match[2]}; expected one of ${signalActions.join(', ')}`);
    }
    if (seen.has(signal)) throw bad(`${signal.slice(3)} is given twice`);
    seen.add(signal);
    map.set(signal, action);
  }
  return map;
}

/** The map JOBQ_SIGNAL_MAP describes (the default map when unset). */
export function signalMapFromEnv(env: NodeJS.ProcessEnv): SignalMap {
  const text = env['JOBQ_SIGNAL_MAP'];
  return text === undefined ? defaultSignalMap : parseSignalMap(text);
}
