import type { Backend } from './backend.js';
import { openAzureBackend } from './azure.js';
import type { QueueTarget } from './spec.js';
import { openSqliteBackend } from './sqlite.js';

/** Connects to the backend a parsed spec names. */
export function openBackend(target: QueueTarget): Backend {
  return target.kind === 'local' ? openSqliteBackend(target.file) : openAzureBackend(target);
}
