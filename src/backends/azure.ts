// Placeholder while the Azure backend is written (replaced in the same change).
import { JobqError } from '../errors.js';
import type { Backend } from './backend.js';
import type { QueueTarget } from './spec.js';

export function openAzureBackend(target: Exclude<QueueTarget, { kind: 'local' }>): Backend {
  throw new JobqError('NOT_IMPLEMENTED', `Azure backend for ${target.name}`);
}
