import type { Backend } from './backend.js';
import type { QueueTarget } from './spec.js';
import { openSqliteBackend } from './sqlite.js';

/** Connects to the backend a parsed spec names. The Azure SDK loads only when needed (it costs ~200 ms). */
export async function openBackend(target: QueueTarget): Promise<Backend> {
  if (target.kind === 'local') return openSqliteBackend(target.file, { allowSharedHome: target.allowSharedHome ?? false });
  const { openAzureBackend } = await import('./azure.js');
  return openAzureBackend(target);
}
