// What the master keeps of a VM beyond its columns (virtual_machines.spec, JSON): its name on
// its host's agent, its disks and how it boots. The agent's name is the master's own choice,
// unique per agent, since tenants' VM names are unique only within each tenant.

import { randomUUID } from 'node:crypto';
import type { VirtualMachine } from '../store/virtual-machines.js';

export interface MasterVmBoot {
  /** Paths on the host: a Linux Image or bare-metal ELF, optional firmware and initrd. */
  kernel: string;
  firmware?: string;
  initrd?: string;
  bootargs?: string;
}

export interface MasterVmSpec {
  agentName: string;
  disks: { sizeGiB: number }[];
  boot: MasterVmBoot;
  jit: 'on' | 'off';
}

export function newAgentVmName(): string {
  return `vm-${randomUUID()}`;
}

export function vmSpecOf(vm: Pick<VirtualMachine, 'spec'>): MasterVmSpec {
  return JSON.parse(vm.spec) as MasterVmSpec;
}

/** The bytes of the VM's disks, as placement counts them. */
export function diskBytesOf(spec: Pick<MasterVmSpec, 'disks'>): number {
  return spec.disks.reduce((total, disk) => total + Math.ceil(disk.sizeGiB * 1024) * 2 ** 20, 0);
}
