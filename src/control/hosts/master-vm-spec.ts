// What the master keeps of a VM beyond its columns (virtual_machines.spec, JSON): its name on
// its host's agent, its disks, its network and how it boots. The agent's names (of the VM, of a
// virtual LUN's volume, of a network's switch) are the master's own choice, unique per agent,
// since tenants' names are unique only within each tenant.

import { randomUUID } from 'node:crypto';
import type { VirtualMachine } from '../store/virtual-machines.js';

export interface MasterVmBoot {
  /** Paths on the host: a Linux Image or bare-metal ELF, optional firmware and initrd. */
  kernel: string;
  firmware?: string;
  initrd?: string;
  bootargs?: string;
}

/** A new thin disk made with the VM (deleted with it), or a tenant's virtual LUN attached. */
export type MasterVmDisk = { sizeGiB: number } | { virtualLunId: string };

export interface MasterVmSpec {
  agentName: string;
  disks: MasterVmDisk[];
  /** Its one NIC's network; absent: none. */
  networkId?: string;
  boot: MasterVmBoot;
  jit: 'on' | 'off';
}

export function newAgentVmName(): string {
  return `vm-${randomUUID()}`;
}

/** The volume on its host that holds virtual LUN `id`. */
export function agentVolumeName(virtualLunId: string): string {
  return `vlun-${virtualLunId}`;
}

/** The agent's switch of a tenant's network. */
export function agentNetworkName(networkId: string): string {
  return `net-${networkId}`;
}

export function attachedLunsOf(spec: Pick<MasterVmSpec, 'disks'>): string[] {
  return spec.disks.flatMap((disk) => ('virtualLunId' in disk ? [disk.virtualLunId] : []));
}

export function vmSpecOf(vm: Pick<VirtualMachine, 'spec'>): MasterVmSpec {
  return JSON.parse(vm.spec) as MasterVmSpec;
}

/** The bytes of the disks made with the VM, as placement counts them (virtual LUNs have theirs already). */
export function diskBytesOf(spec: Pick<MasterVmSpec, 'disks'>): number {
  return spec.disks.reduce((total, disk) => total + ('sizeGiB' in disk ? Math.ceil(disk.sizeGiB * 1024) * 2 ** 20 : 0), 0);
}
