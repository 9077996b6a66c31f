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
import { noticeSources, type NoticeSource } from './notice.js';

export const defaultDmiDir = '/sys/class/dmi/id';
const azureAssetTag = '7783-7084-3265-9085-8269-3286-77';

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

/** A sign of a cloud: why this machine is on it, or undefined. */
type Mark = (env: NodeJS.ProcessEnv, dmi: DmiIdentity) => string | undefined;

const variableSet =
  (name: string): Mark =>
  (env) =>
    (env[name] ?? '') !== '' ? `${name} is set` : undefined;

const firmware =
  (field: Exclude<keyof DmiIdentity, 'dir'>, file: string, test: (value: string) => boolean): Mark =>
  (_env, dmi) => {
    const value = dmi[field];
    return value !== undefined && test(value) ? `${path.join(dmi.dir, file)} is ${JSON.stringify(value)}` : undefined;
  };

const marks: Record<NoticeSource, readonly Mark[]> = {
  azure: [
    variableSet('AZ_BATCHAI_CLUSTER_NAME'),
    variableSet('AZ_BATCH_NODE_ID'),
    variableSet('AZ_BATCH_TASK_ID'),
    firmware('chassisAssetTag', 'chassis_asset_tag', (tag) => tag === azureAssetTag),
  ],
  aws: [
    firmware('sysVendor', 'sys_vendor', (vendor) => vendor === 'Amazon EC2'),
    firmware('biosVersion', 'bios_version', (version) => /amazon/i.test(version)),
  ],
  gcp: [
    firmware('sysVendor', 'sys_vendor', (vendor) => vendor === 'Google'),
    firmware('productName', 'product_name', (product) => product === 'Google Compute Engine'),
  ],
};

/** The clouds this machine is on (at most one in practice), each with the first of its signs found. */
export function recognisePlatforms(env: NodeJS.ProcessEnv, dmi: DmiIdentity): RecognisedPlatform[] {
  return noticeSources.flatMap((source) => {
    for (const mark of marks[source]) {
      const because = mark(env, dmi);
      if (because !== undefined) return [{ source, because }];
    }
    return [];
  });
}
