/**
 * Keeps the password of a PostgreSQL queue's database to the CLI process
 * itself. Once the spec is parsed the connection holds it (privately), so
 * the variables that carried it leave the environment that tasks, the
 * session guard and worker threads inherit, and a `--db-url` that carried it
 * is masked in the process title (`ps`, /proc/PID/cmdline; a process shows
 * its arguments until it gets here, a fraction of a second: prefer
 * JOBQ_DATABASE_URL, which only its user and root can read).
 */
import type { QueueTarget } from '../backends/spec.js';

/** Where a database password may come from in the environment. */
export const passwordVariables = ['JOBQ_DATABASE_URL', 'DATABASE_URL', 'PGPASSWORD'] as const;

/** Removes from `env` the variables that hold the queue's database password, and masks it in the process title. */
export function withholdDatabasePassword(target: QueueTarget, env: NodeJS.ProcessEnv = process.env): void {
  if (target.kind !== 'postgres') return;
  const password = target.connection.password;
  if (password === undefined || password === '') return;
  for (const name of passwordVariables) {
    if (env[name]?.includes(password)) delete env[name];
  }
  if (process.argv.some((arg) => arg.includes(password))) {
    process.title = process.argv.map((arg) => target.connection.redact(arg)).join(' ');
  }
}
