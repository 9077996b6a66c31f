/**
 * Another "host" for a test: a network namespace joined to this one by a
 * veth pair, each end with its own address on a /30 of its own. A process
 * started with `command()` runs in the namespace and reaches this host only
 * over the pair, so `linkDown()` cuts it off as a pulled cable would: its
 * packets are dropped, its connections stay open and retransmit, and they
 * go on when `linkUp()` restores the link.
 *
 * Needs root and iproute2; `makeNetworkNamespace` says why when it cannot.
 * Names carry the test's pid (jobq-PID, jqPIDh/jqPIDg): leftovers of test
 * processes that died are removed first; only those.
 */
import { execFileSync } from 'node:child_process';
import { isProcessAlive } from '../../src/os/process-alive.js';

export interface NetworkNamespace {
  readonly name: string;
  /** This host's end of the pair (listen here to be reachable from the namespace). */
  readonly hostAddress: string;
  /** The namespace's end. */
  readonly guestAddress: string;
  /** `[file, args]` that run `file args…` inside the namespace. */
  command(file: string, args: readonly string[]): [string, string[]];
  linkDown(): void;
  linkUp(): void;
  /** Deletes the pair and the namespace (idempotent). */
  remove(): void;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `ip args`, ignoring a failure (the thing is gone already). */
function ipQuietly(...args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: 'ignore' });
  } catch {
    // already gone
  }
}


/** Removes the namespaces and links of test processes that are gone. */
function removeAbandoned(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const pid = Number(/^jobq-(\d+)\b/.exec(line)?.[1]);
    if (Number.isInteger(pid) && !isProcessAlive(pid)) ipQuietly('netns', 'delete', `jobq-${pid}`);
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const pid = Number(/^\d+: jq(\d+)h[@:]/.exec(line)?.[1]);
    if (Number.isInteger(pid) && !isProcessAlive(pid)) ipQuietly('link', 'delete', `jq${pid}h`);
  }
}

/** A /30 in 10.213.0.0/16 that no interface uses yet. */
function freeSubnet(): [string, string] {
  const used = ip('-o', '-4', 'addr', 'show');
  for (let attempt = 0; attempt < 64; attempt += 1) {
    const third = (process.pid + attempt * 7) % 256;
    const fourth = (((process.pid >> 8) + attempt) % 64) * 4;
    const host = `10.213.${third}.${fourth + 1}`;
    const guest = `10.213.${third}.${fourth + 2}`;
    if (!used.includes(` ${host}/`) && !used.includes(` ${guest}/`)) return [host, guest];
  }
  throw new Error('no free /30 in 10.213.0.0/16');
}

/** A namespace with its link up, or why there can be none here (not root, no iproute2). */
export function makeNetworkNamespace(): NetworkNamespace | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'network namespaces need root' };
  try {
    ip('netns', 'list');
  } catch (err) {
    return { skip: `no usable iproute2: ${(err as Error).message.split('\n')[0]}` };
  }
  removeAbandoned();
  const name = `jobq-${process.pid}`;
  const hostEnd = `jq${process.pid}h`;
  const guestEnd = `jq${process.pid}g`;
  const [hostAddress, guestAddress] = freeSubnet();
  let removed = false;
  const namespace: NetworkNamespace = {
    name,
    hostAddress,
    guestAddress,
    command: (file, args) => ['ip', ['netns', 'exec', name, file, ...args]],
    linkDown: () => void ip('link', 'set', hostEnd, 'down'),
    linkUp: () => void ip('link', 'set', hostEnd, 'up'),
    remove() {
      if (removed) return;
      removed = true;
      ipQuietly('link', 'delete', hostEnd);
      ipQuietly('netns', 'delete', name);
    },
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', guestEnd);
    ip('link', 'set', guestEnd, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostEnd);
    ip('link', 'set', hostEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${guestAddress}/30`, 'dev', guestEnd);
    ip('netns', 'exec', name, 'ip', 'link', 'set', guestEnd, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    namespace.remove();
    return { skip: `cannot make a network namespace: ${(err as Error).message.split('\n')[0]}` };
  }
  return namespace;
}
