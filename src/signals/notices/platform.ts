/**
 * Which cloud this machine is on, from what the platforms themselves set:
 * environment variables (Azure Batch and the Azure ML compute built on it) and
 * the firmware's identity in `/sys/class/dmi/id`, which containers see too.
 *
 *   AWS    sys_vendor `Amazon EC2` (Nitro instances), or a bios_version with
 *          `amazon` in it (the older Xen instances)
 *   GCP    sys_vendor `Google` or product_name `Google Compute Engine`
 *   Azure  chassis_asset_tag `7783-7084-3265-9085-8269-3286-77`: Azure's own
 *          tag. sys_vendor `Microsoft Corporation` with product_name
 *          `Virtual Machine` is every Hyper-V machine, on Azure or not, so
 *          those two alone are not taken for Azure (cloud-init's rule).
 *
 * Reading the files is kept apart (`readDmiIdentity`) so that the decision is a
 * pure function of what was read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NoticeSource } from './notice.js';

export const defaultDmiDir = '/sys/class/dmi/id';
const azureAssetTag = '7783-7084-3265-9085-8269-3286-77';
const azureEnvironment = ['AZ_BATCHAI_CLUSTER_NAME', 'AZ_BATCH_NODE_ID', 'AZ_BATCH_TASK_ID'] as const;

/** The firmware identity fields that tell the clouds apart (absent where unreadable). */
export interface DmiIdentity {
  readonly dir: string;
  readonly sysVendor?: string | undefined;
  readonly productName?: string | undefined;
  readonly biosVersion?: string | undefined;
  readonly chassisAssetTag?: string | undefined;
}

/** A recognised platform and how it was recognised, for the start-up log. */
export interface RecognisedPlatform {
  readonly source: NoticeSource;
  readonly because: string;
}

/** Reads the identity from `dir` (default /sys/class/dmi/id); a missing folder or file is no information. */
export function readDmiIdentity(dir: string = defaultDmiDir): DmiIdentity {
  const read = (name: string): string | undefined => {
    try {
      return readFileSync(path.join(dir, name), 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  return {
    dir,
    sysVendor: read('sys_vendor'),
    productName: read('product_name'),
    biosVersion: read('bios_version'),
    chassisAssetTag: read('chassis_asset_tag'),
  };
}

/** The clouds this machine is on (at most one in practice), by environment and firmware identity. */
export function recognisePlatforms(env: NodeJS.ProcessEnv, dmi: DmiIdentity): RecognisedPlatform[] {
  const found: RecognisedPlatform[] = [];
  const file = (name: string, value: string): string => `${path.join(dmi.dir, name)} is ${JSON.stringify(value)}`;
  const azureVariable = azureEnvironment.find((name) => (env[name] ?? '') !== '');
  if (azureVariable !== undefined) found.push({ source: 'azure', because: `${azureVariable} is set` });
  else if (dmi.chassisAssetTag === azureAssetTag) found.push({ source: 'azure', because: file('chassis_asset_tag', azureAssetTag) });
  if (dmi.sysVendor === 'Amazon EC2') found.push({ source: 'aws', because: file('sys_vendor', dmi.sysVendor) });
  else if (dmi.biosVersion !== undefined && /amazon/i.test(dmi.biosVersion)) {
    found.push({ source: 'aws', because: file('bios_version', dmi.biosVersion) });
  }
  if (dmi.sysVendor === 'Google') found.push({ source: 'gcp', because: file('sys_vendor', dmi.sysVendor) });
  else if (dmi.productName === 'Google Compute Engine') found.push({ source: 'gcp', because: file('product_name', dmi.productName) });
  return found;
}
