/**
 * The rule that keeps secrets off the dashboard (and anything else that shows
 * tasks to people who may not hold the queue's credentials). Two parts:
 *
 * - A name looks secret when one of its words (split at `_`, `-`, `.`,
 *   spaces and lower-to-upper case changes) is one of `secretWords` or
 *   contains one of `secretParts`, or it has the words `connection` and
 *   `string`: `AWS_SECRET_ACCESS_KEY`, `HF_TOKEN`, `apiKey`, `PGPASSWORD`,
 *   `JOBQ_CONNECTION_STRING` (but not `MAX_TOKENS` or `TOKENIZER`). The value
 *   of such an environment variable or kwargs key is hidden whatever it is.
 * - In any text (commands, kwargs, errors, output), values that are secrets
 *   by their form are hidden: the keys of connection strings
 *   (`AccountKey=…`, `SharedAccessSignature=…`, `Password=…`), the password
 *   of a URL (`https://user:…@host`), SAS and token query parameters
 *   (`?sig=…`), `Bearer …`, and `NAME=value`, `--name value` and
 *   `--name=value` where NAME looks secret by the first part.
 *
 * What is hidden becomes `***`. The rule errs on the side of hiding: a
 * variable named `SESSION_ID` loses its value too.
 */

export const hidden = '***';

const secretWords = new Set([
  'pwd',
  'pass',
  'passphrase',
  'token',
  'key',
  'auth',
  'authorization',
  'cookie',
  'session',
  'signature',
  'sig',
  'sas',
  'private',
  'dsn',
  'connstr',
]);

/** Parts that make any word secret, wherever they stand in it (`PGPASSWORD`, `DBSECRET`). */
const secretParts = ['password', 'passwd', 'secret', 'apikey', 'credential', 'privatekey'];

/** The words of a name: `awsSecretAccessKey`, `AWS_SECRET_ACCESS_KEY` and `aws-secret.access key` all give aws, secret, access, key. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/** Whether a variable, key or flag name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  const parts = words(name);
  return (
    parts.some((word) => secretWords.has(word) || secretParts.some((part) => word.includes(part))) ||
    (parts.includes('connection') && parts.includes('string'))
  );
}

/** A value quoted with " or ', or unquoted up to a space or a shell separator. */
const valueText = String.raw`("[^"]*"|'[^']*'|[^\s;&|'"]+)`;

const textRules: ReadonlyArray<{ pattern: RegExp; replace: (match: string, ...groups: string[]) => string }> = [
  // Connection strings: Azure Storage, Service Bus, Application Insights, ADO-style passwords.
  {
    pattern: /\b(AccountKey|SharedAccessKey|SharedAccessSignature|InstrumentationKey|Password|Pwd)=([^;\s'"]+)/gi,
    replace: (_match, name) => `${name}=${hidden}`,
  },
  // The password of a URL: scheme://user:password@host.
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*:)[^\s/@'"]+@/gi, replace: (_match, head) => `${head}${hidden}@` },
  // SAS tokens and tokens in query strings.
  {
    pattern: /([?&](?:sig|signature|token|access_token|api_key|apikey|key|code)=)[^&\s'"#]+/gi,
    replace: (_match, head) => `${head}${hidden}`,
  },
  { pattern: /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, replace: (_match, head) => `${head}${hidden}` },
  // NAME=value (a shell assignment, an env var on a command line) where NAME looks secret.
  {
    pattern: new RegExp(String.raw`\b([A-Za-z_][A-Za-z0-9_]*)=${valueText}`, 'g'),
    replace: (match, name) => (isSecretName(name) ? `${name}=${hidden}` : match),
  },
  // --name value and --name=value where the flag's name looks secret.
  {
    pattern: new RegExp(String.raw`(--?[A-Za-z][A-Za-z0-9_-]*)([= ]+)${valueText}`, 'g'),
    replace: (match, flag, separator) => (isSecretName(flag) ? `${flag}${separator}${hidden}` : match),
  },
  // "name": "value" in JSON text that could not be parsed (kwargs cut short), where the name looks secret.
  {
    pattern: /("([^"\\]*)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)/g,
    replace: (match, head, name) => (isSecretName(name) ? `${head}"${hidden}"` : match),
  },
];

/** `text` with every value that is a secret by its form hidden. */
export function redactText(text: string): string {
  let result = text;
  for (const rule of textRules) result = result.replace(rule.pattern, rule.replace);
  return result;
}

/** A JSON value with the values of secret-looking keys hidden and every string redacted. */
export function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSecretName(key) ? hidden : redactValue(item)]));
  }
  return value;
}

/** An environment with the values of secret-looking names hidden (and the others redacted by form). */
export function redactEnv(env: Readonly<Record<string, unknown>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, isSecretName(name) ? hidden : redactText(typeof value === 'string' ? value : JSON.stringify(value))]),
  );
}

/** What a task runs as the history or a worker row holds it: a command, or kwargs as JSON (maybe cut short). */
export function redactCommand(command: string): string {
  if (command.startsWith('{')) {
    try {
      return JSON.stringify(redactValue(JSON.parse(command)));
    } catch {
      // cut short: the text rules below still apply
    }
  }
  return redactText(command);
}
