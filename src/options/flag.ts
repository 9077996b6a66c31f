import { UsageError } from '../errors.js';

const yes = new Set(['1', 'true', 'yes', 'y', 't', 'on']);
const no = new Set(['', '0', 'false', 'no', 'n', 'f', 'off']);

/**
 * A yes/no environment variable: `1`, `true`, `yes`, `on` (and `y`, `t`, as
 * the reference reads JOBQ_DISABLE_SCHEDULED_EVENTS) or `0`, `false`, `no`,
 * `off`, empty; any case. Unset is undefined; anything else is a usage error
 * naming the variable.
 */
export function flagFromEnv(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const word = value.trim().toLowerCase();
  if (yes.has(word)) return true;
  if (no.has(word)) return false;
  throw new UsageError(`invalid ${name} "${value}": expected 1 or 0 (or true/false, yes/no, on/off)`);
}
