/**
 * The parts of the Azure SDK that the Azure backend runs. `npm run build`
 * replaces this module's compiled file with one bundle of them
 * (scripts/bundle-azure-sdk.js): the queue and table SDKs are some 400
 * modules, and loading them one by one cost every Azure worker and push
 * about 0.15 s of start-up on this project's VM, the bundle about 0.03 s.
 * Compiled by `tsc` alone, it loads the packages as they are.
 */
export { QueueServiceClient, RestError } from '@azure/storage-queue';
export { TableClient } from '@azure/data-tables';
