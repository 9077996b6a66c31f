/**
 * jobq's own secrets in the environment: what opens the storage account or
 * database, and what points at it. A task never gets them from its worker
 * (with the key, any task could empty or rewrite the queue, and its output
 * would carry the key into logs and dead-letter records); a task whose own
 * `env` sets one gets its own value.
 */
export const SECRET_ENV_NAMES: readonly string[] = [
  'JOBQ_CONNECTION_STRING',
  'JOBQ_CONNECTION_STRING_FILE',
  'JOBQ_DATABASE_URL',
  'DATABASE_URL',
  'PGPASSWORD',
  // @azure/identity's environment credentials.
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'AZURE_PASSWORD',
  // Telemetry: Application Insights' key, OTLP's authorization headers; the dashboard's token.
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_LOGS_HEADERS',
  'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'JOBQ_DASHBOARD_TOKEN',
];

/** `env` as a plain object without the variables named in `withheld` (and without unset entries). */
export function withoutVariables(env: NodeJS.ProcessEnv, withheld: readonly string[]): Record<string, string> {
  const names = new Set(withheld);
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined && !names.has(name)) kept[name] = value;
  return kept;
}

/** `env` as a plain object without jobq's secrets. */
export function withoutSecrets(env: NodeJS.ProcessEnv): Record<string, string> {
  return withoutVariables(env, SECRET_ENV_NAMES);
}
