// Brings a saved VM back in this process: the board rebuilt from the snapshot's description,
// the boot files checked against the digests it recorded, RAM and device state restored, and
// the disks continued in overlays over the images the snapshot owns (or the disks given again).

import { openSnapshot } from './snapshot/snapshot-file.js';
import { randomBytes } from 'node:crypto';
import { checkVmDescription, type DiskDescription, type VmDescription } from './vm-description.js';
import { readBootFiles, type BootRole } from './boot-files.js';
import { VirtualMachine, type VmIo } from './virtual-machine.js';
import { overlayWritableDisks } from './disk-overlays.js';

export interface RestoreOptions {
  /**
   * A new VM from the snapshot rather than the saved one continued: its own disk overlays, a
   * new MAC address, and a new generation ID so the guest reseeds its random number generator.
   */
  fork?: boolean;
  /** Disks to attach instead of overlays over the snapshot's, in the same order. */
  disks?: DiskDescription[];
  /** Reads a boot file (the caller knows the size limits and how to report a missing file). */
  readBoot: (role: BootRole, path: string) => Uint8Array;
  io: VmIo;
}

export interface RestoredVm {
  vm: VirtualMachine;
  /** Milliseconds from opening the file to a board ready to run. */
  restoreMs: number;
}

export class RestoreError extends Error {
  readonly kind = 'restore';
}

/**
 * Restores the VM saved in `path`. Its RAM comes in lazily: the VM may run at once, pages are
 * read from the file as the guest touches them and the rest in the background; the file stays
 * open until then (the VM closes it).
 */
export async function restoreVirtualMachine(path: string, options: RestoreOptions): Promise<RestoredVm> {
  const started = performance.now();
  const snapshot = await openSnapshot(path);
  let vm: VirtualMachine | null = null;
  try {
    const description = withSavedPowerButton(checkVmDescription(snapshot.description), snapshot.state);
    if (snapshot.ramSize !== description.ramMiB * 1024 * 1024) {
      throw new RestoreError(`${path} holds ${snapshot.ramSize} bytes of RAM but describes a ${description.ramMiB} MiB VM (corrupt snapshot?)`);
    }
    const boot = readBootFiles(description, options.readBoot);
    const disks = options.disks ?? (await continuedDisks(description.disks, `${path}.${options.fork ? 'fork-' : ''}disk`));
    const state = options.fork ? forkIdentity(description, snapshot.state) : snapshot.state;
    if (disks.length !== description.disks.length) {
      throw new RestoreError(`${path} was saved with ${description.disks.length} disk${description.disks.length === 1 ? '' : 's'}; give as many, or none to continue the snapshot's own`);
    }
    vm = await VirtualMachine.create({ ...description, disks }, boot, options.io, { emptyRam: true, readBoot: options.readBoot });
    vm.fillRamFrom(snapshot);
    vm.machine.restoreState(state);
    // A fork is a new generation of the saved VM: the guest reseeds its random numbers when told.
    if (options.fork) vm.machine.generationId.change();
    return { vm, restoreMs: performance.now() - started };
  } catch (e) {
    if (vm) await vm.close();
    else await snapshot.close();
    throw e;
  }
}

/**
 * Snapshots taken before boards had a power button hold no virtio-input state: such a VM is
 * rebuilt without one (so its devices match), and answers a shutdown with no-guest-driver.
 */
export function withSavedPowerButton(description: VmDescription, state: unknown): VmDescription {
  if (description.powerButton !== undefined) return description;
  const virtio = (state as { virtio?: unknown } | null)?.virtio;
  const saved = Array.isArray(virtio) ? virtio.map((v) => (v as { device?: unknown } | null)?.device) : [];
  return saved.includes('virtio-input') ? description : { ...description, powerButton: false };
}

/** Overlays at PREFIX0.qcow2, PREFIX1.qcow2... over each writable disk the snapshot owns; read-only disks as they are. */
async function continuedDisks(disks: readonly DiskDescription[], prefix: string): Promise<DiskDescription[]> {
  const overlays = await overlayWritableDisks(disks, (_disk, i) => `${prefix}${i}`);
  const result = disks.map((d) => ({ ...d }));
  for (const overlay of overlays) {
    await overlay.backend.close();
    result[overlay.index] = { ...result[overlay.index]!, path: overlay.path, format: 'qcow2' };
  }
  return result;
}

/** A fork's own MAC address, in the description and in the saved NIC state it is restored from. */
function forkIdentity(description: VmDescription, saved: unknown): unknown {
  if (description.network === null) return saved;
  const mac = randomMac();
  description.network = { ...description.network, mac };
  const state = structuredClone(saved) as { virtio?: Array<{ device?: string; transport?: { device?: { mac?: string } } }> };
  for (const slot of state.virtio ?? []) {
    if (slot.device === 'virtio-net' && slot.transport?.device) slot.transport.device.mac = mac;
  }
  return state;
}

/** 52:54:00 (locally administered, as QEMU's defaults) and three random bytes. */
export function randomMac(): string {
  return ['52', '54', '00', ...[...randomBytes(3)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
