/**
 * The Entra ID credential for `ACCOUNT/NAME` queues (SPEC §3), chosen as the
 * reference chooses it: on a compute node with a user-assigned managed identity
 * (AZURE_CLIENT_ID or DEFAULT_IDENTITY_CLIENT_ID names it) use that identity;
 * anywhere else try the Azure CLI login, then service-principal environment
 * variables. Constructing a credential does no I/O; tokens are fetched on the
 * first request.
 */
import {
  AzureCliCredential,
  ChainedTokenCredential,
  EnvironmentCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';

/** The credential for a storage account, from the environment given (default: process.env). */
export function azureCredential(env: NodeJS.ProcessEnv = process.env): TokenCredential {
  const clientId = env['AZURE_CLIENT_ID'] || env['DEFAULT_IDENTITY_CLIENT_ID'];
  if (clientId) return new ManagedIdentityCredential({ clientId });
  return new ChainedTokenCredential(new AzureCliCredential(), new EnvironmentCredential());
}
