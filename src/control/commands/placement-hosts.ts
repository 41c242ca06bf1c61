// A data center's hosts as placement sees them, for creating a VM and for moving one: each
// host's last heartbeat report and the VMs the master has placed there.

import type { AgentHostInfo } from '../hosts/agent-api-types.js';
import { diskBytesOf, vmSpecOf } from '../hosts/master-vm-spec.js';
import type { PlacedVm, PlacementHost } from '../hosts/placement.js';
import type { Host } from '../store/hosts.js';
import { allPages } from '../store/page.js';
import type { Repositories } from '../store/repositories.js';
import type { VmState } from '../store/tables.js';

/** States in which the agent does not charge the VM yet, so placement reserves its room. */
const NOT_CHARGED: ReadonlySet<VmState> = new Set(['defined', 'stopped', 'crashed']);

export async function placementHostsOf(repos: Repositories, dataCenterId: string): Promise<{ row: Host; candidate: PlacementHost }[]> {
  const rows = await allPages((page) => repos.hosts.list({ data_center_id: dataCenterId }, page));
  return Promise.all(rows.map(async (row) => {
    const report = JSON.parse(row.last_report) as Partial<AgentHostInfo>;
    const vms = await allPages((page) => repos.virtualMachines.list({ host_id: row.id }, page));
    const candidate: PlacementHost = {
      id: row.id, name: row.name, dataCenterId: row.data_center_id, state: row.state, cores: row.cpus,
      memoryBudgetMiB: report.memory?.budgetMiB ?? 0, memoryChargedMiB: report.memory?.chargedMiB ?? 0, storageFreeBytes: report.storage?.free ?? 0,
      vms: vms.map((vm): PlacedVm => ({ tenantId: vm.tenant_id, cpus: vm.cpus, memoryMiB: vm.memory_mib, diskBytes: diskBytesOf(vmSpecOf(vm)), pending: NOT_CHARGED.has(vm.state) })),
    };
    return { row, candidate };
  }));
}
