// One VM as plain data: what it boots, its memory, disks, network, shares and console. The
// command line builds one; a snapshot carries one, so a restore builds the same board; the host
// agent and the control plane will store them.

import { MAX_CPUS, type TranslationMode } from '../machine/machine.js';
import { checkIoLimits, type IoLimits } from '../storage/qos/io-limits.js';
import type { DiskFormat } from '../storage/disk-image.js';
import { checkUserNetworkOptions, type UserNetworkOptions } from '../net/user/user-network-options.js';

export const VM_DESCRIPTION_VERSION = 1;

/** A boot file by path; a snapshot adds the digest of the bytes the VM was started from. */
export interface BootFileRef {
  path: string;
  sha256?: string;
}

export interface DiskDescription {
  path: string;
  /** Absent: read from the header when opened (and a raw image so found refuses a guest write that would make it look like qcow2). */
  format?: DiskFormat;
  readOnly: boolean;
  /** The guest's name for it (virtio-blk GET_ID). */
  serial: string;
  limits: IoLimits;
}

export interface VmDescription {
  version: typeof VM_DESCRIPTION_VERSION;
  ramMiB: number;
  /** Harts, each on its own host thread; absent means 1. */
  cpus?: number;
  boot: {
    kernel: BootFileRef;
    firmware?: BootFileRef;
    initrd?: BootFileRef;
    bootargs?: string;
  };
  disks: DiskDescription[];
  /** A NIC with this MAC; null for none. */
  network: NetworkDescription | null;
  shares: Array<{ root: string; tag: string; readOnly: boolean }>;
  /** Where the terminal's input goes; hvc0 also attaches a virtio-console. */
  console: 'ttyS0' | 'hvc0';
  /** A virtio-balloon for free page reporting; absent (as in older descriptions) means none. */
  balloon?: boolean;
  /** Guest RAM offered to the host's same-page merging (KSM); absent means offered. */
  memMerge?: boolean;
  translation: TranslationMode;
  jitThreshold?: number;
  /** A cap on the VM's CPU use, percent of one host core (5..100 per hart). */
  cpu?: { capPercent: number };
  /** The virtio-input power button; absent means attached (false: a VM restored from a snapshot taken before it existed). */
  powerButton?: boolean;
}

/**
 * The NIC's network. 'host' (the default when absent, as in older descriptions): a switch with
 * a host answering ARP and ping at 10.0.2.2. 'user': user-mode networking to the outside
 * through host sockets, with the forwarding rules in `user`. With `switch`, the NIC is on a
 * switch shared with other VM processes, served on that Unix socket, instead.
 */
export interface NetworkDescription {
  mac: string;
  mode?: 'host' | 'user';
  user?: UserNetworkOptions;
  switch?: string;
}

export class VmDescriptionError extends Error {
  readonly kind = 'vm-description';
}

/** Checks a description read from a file (a snapshot's): every field a board is built from. */
export function checkVmDescription(value: unknown): VmDescription {
  const fail = (why: string): never => {
    throw new VmDescriptionError(`the VM description ${why} (corrupt snapshot?)`);
  };
  if (typeof value !== 'object' || value === null) return fail('is not an object');
  const d = value as Partial<VmDescription>;
  if (d.version !== VM_DESCRIPTION_VERSION) return fail(`has version ${String(d.version)}; this build reads ${VM_DESCRIPTION_VERSION}`);
  if (!Number.isInteger(d.ramMiB) || d.ramMiB! < 1 || d.ramMiB! > 65536) fail(`has an invalid memory size ${String(d.ramMiB)}`);
  if (d.cpus !== undefined && (!Number.isInteger(d.cpus) || d.cpus < 1 || d.cpus > MAX_CPUS)) fail(`has an invalid CPU count ${String(d.cpus)}`);
  const isRef = (r: unknown) => typeof r === 'object' && r !== null && typeof (r as BootFileRef).path === 'string';
  if (typeof d.boot !== 'object' || d.boot === null || !isRef(d.boot.kernel)) fail('names no kernel');
  for (const key of ['firmware', 'initrd'] as const) if (d.boot![key] !== undefined && !isRef(d.boot![key])) fail(`has a malformed ${key}`);
  if (!Array.isArray(d.disks) || !d.disks.every((k) => typeof k?.path === 'string' && (k.format === undefined || k.format === 'raw' || k.format === 'qcow2') && typeof k.readOnly === 'boolean' && typeof k.serial === 'string' && typeof k.limits === 'object' && k.limits !== null)) fail('has malformed disks');
  for (const disk of d.disks!) {
    try {
      checkIoLimits(disk.limits);
    } catch (e) {
      fail(`has bad I/O limits for ${disk.path}: ${(e as Error).message}`);
    }
  }
  if (d.network !== null && (typeof d.network?.mac !== 'string' || (d.network.switch !== undefined && typeof d.network.switch !== 'string'))) fail('has a malformed network');
  // At most all of every hart's core.
  const maxCap = 100 * (d.cpus ?? 1);
  if (d.cpu !== undefined && !(typeof d.cpu?.capPercent === 'number' && d.cpu.capPercent >= 5 && d.cpu.capPercent <= maxCap)) fail(`has a CPU cap outside 5..${maxCap}%`);
  if (d.network) {
    const { mode, user } = d.network;
    if (mode !== undefined && mode !== 'host' && mode !== 'user') fail(`has an unknown network mode ${String(mode)}`);
    if (mode === 'user' && user === undefined) fail('has user networking without its options');
    const problem = user === undefined ? undefined : checkUserNetworkOptions(user);
    if (problem !== undefined) fail(`has bad user networking options: ${problem}`);
  }
  if (!Array.isArray(d.shares) || !d.shares.every((s) => typeof s?.root === 'string' && typeof s.tag === 'string' && typeof s.readOnly === 'boolean')) fail('has malformed shares');
  if (d.console !== 'ttyS0' && d.console !== 'hvc0') fail(`has an unknown console ${String(d.console)}`);
  if (d.powerButton !== undefined && typeof d.powerButton !== 'boolean') fail('has a malformed powerButton');
  if (d.balloon !== undefined && typeof d.balloon !== 'boolean') fail('has a malformed balloon');
  if (d.memMerge !== undefined && typeof d.memMerge !== 'boolean') fail('has a malformed memMerge');
  if (d.translation !== 'on' && d.translation !== 'off' && d.translation !== 'lockstep') fail('has an unknown translation mode');
  return d as VmDescription;
}
