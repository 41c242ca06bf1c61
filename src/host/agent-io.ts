// The host-wide disk budget in the agent: IoAllocator shares it between the running VMs' disks
// by VM weight, never above a disk's own limits, and the shares are pushed to the VM processes
// (PUT /vm/disks/{serial}/limits). Recomputed whenever a VM starts or stops or limits change.

import type { IoLimits } from '../storage/qos/io-limits.js';
import { IoAllocator, type IoBudget, type IoClaim } from './io-allocator.js';
import { diskSerial } from './vm-definition.js';
import { processKey, type VmInstance } from './vm-instance.js';

export class AgentIo {
  private readonly allocator: IoAllocator | null;
  /** The limits last put in force, by VM process (name#pid) then disk serial. */
  private readonly inForce = new Map<string, Map<string, IoLimits>>();
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly budget: IoBudget, private readonly running: () => readonly VmInstance[], private readonly log: (line: string) => void) {
    this.allocator = (budget.iops ?? 0) > 0 || (budget.bps ?? 0) > 0 ? new IoAllocator(budget) : null;
  }

  /** Whether there is a budget to share (else each disk has its own limits only). */
  get sharing(): boolean {
    return this.allocator !== null;
  }

  /** Shares the budget again and pushes what changed; one run at a time, in order. */
  rebalance(): Promise<void> {
    const next = this.chain.then(() => this.apply());
    this.chain = next.catch(() => {});
    return next;
  }

  /** The limits in force on each of the VM's disks (its own without a budget), or null when it is not running. */
  report(vm: VmInstance): Record<string, IoLimits> | null {
    if (vm.process === null) return null;
    const shares = this.inForce.get(processKey(vm));
    return Object.fromEntries(vm.definition.spec.disks.map((disk, i) => [diskSerial(i), shares?.get(diskSerial(i)) ?? disk.limits]));
  }

  private async apply(): Promise<void> {
    const vms = this.running().filter((vm) => (vm.state === 'running' || vm.state === 'paused') && vm.definition.spec.disks.length > 0);
    const live = new Set(vms.map(processKey));
    for (const id of [...this.inForce.keys()]) if (!live.has(id)) this.inForce.delete(id);
    if (this.allocator === null || vms.length === 0) return;
    const claims: IoClaim[] = vms.map((vm) => ({
      id: processKey(vm),
      weight: vm.definition.spec.cpu.weight,
      disks: vm.definition.spec.disks.map((disk, i) => ({ serial: diskSerial(i), limits: disk.limits })),
    }));
    const byId = new Map(vms.map((vm) => [processKey(vm), vm]));
    await Promise.all(this.allocator.allocate(claims).map(async ({ vm: id, serial, limits }) => {
      const vm = byId.get(id)!;
      const old = this.inForce.get(id)?.get(serial);
      if (old !== undefined && sameLimits(old, limits)) return;
      try {
        await vm.callVm('PUT', `/vm/disks/${encodeURIComponent(serial)}/limits`, limits);
        if (!this.inForce.has(id)) this.inForce.set(id, new Map());
        this.inForce.get(id)!.set(serial, limits);
      } catch (e) {
        if (vm.process !== null) this.log(`vm ${vm.name}: disk ${serial}: its share of the disk budget was not applied: ${(e as Error).message}`);
      }
    }));
  }
}


function sameLimits(a: IoLimits, b: IoLimits): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof IoLimits>;
  return [...keys].every((k) => a[k] === b[k]);
}
