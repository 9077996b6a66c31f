import type { Backend } from './backend.js';
import type { QueueTarget } from './spec.js';
import { openSqliteBackend } from './sqlite.js';

/** Connects to the backend a parsed spec names. The Azure SDK and pg load only when needed (the SDK, bundled, still costs ~30 ms). */
export async function openBackend(target: QueueTarget): Promise<Backend> {
  if (target.kind === 'local') return openSqliteBackend(target.file, { allowSharedHome: target.allowSharedHome ?? false });
  if (target.kind === 'postgres') {
    const { openPostgresBackend } = await import('./postgres/backend.js');
    return openPostgresBackend(target.connection);
  }
  const { openAzureBackend } = await import('./azure.js');
  return openAzureBackend(target);
}
