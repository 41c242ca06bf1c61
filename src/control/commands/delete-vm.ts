// Deleting a VM: refused while it runs; removed from its host's agent (with the disks the agent
// made for it), then from the master's records. Its virtual LUNs stay, detached, for another VM.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { vmSpecOf } from '../hosts/master-vm-spec.js';
import type { MasterServices } from '../master-services.js';
import { repositories } from '../store/repositories.js';
import type { VmState } from '../store/tables.js';
import { agentFailure, isMissingOnAgent } from './agent-failure.js';
import { recordChange } from './record-change.js';

const RUNNING: ReadonlySet<VmState> = new Set(['starting', 'running', 'paused', 'stopping']);

export async function deleteVm(master: MasterServices, caller: Caller, vmId: string, expectedVersion: number | null): Promise<void> {
  const repos = repositories(master.store.db);
  const vm = await repos.virtualMachines.get(vmId);
  if (expectedVersion !== null && vm.version !== expectedVersion) await repos.virtualMachines.update(vmId, expectedVersion, {});
  if (RUNNING.has(vm.state) || master.operations.isBusy(vmId)) throw new MasterApiError('conflict', `the VM ${vm.name} is ${vm.state}; stop it first`, { id: vmId, state: vm.state });
  if (vm.host_id !== null) {
    const host = await repos.hosts.get(vm.host_id);
    if (host.state === 'down') throw new MasterApiError('conflict', `the VM's host ${host.name} is down (${host.state_reason}); it would stay there: delete it when the host is back`, { id: vmId, hostId: host.id });
    try {
      await master.fleet.client(host).deleteVm(vmSpecOf(vm).agentName, { disks: true });
    } catch (e) {
      if (!isMissingOnAgent(e)) throw agentFailure(e, host.name, `delete the VM ${vm.name}`);
    }
  }
  await recordChange(master, caller, {
    action: 'vm.delete', resource: 'vm',
    apply: async (tx) => {
      const attached = await tx.virtualLuns.list({ vm_id: vmId });
      for (const lun of attached.items) await tx.virtualLuns.update(lun.id, lun.version, { vm_id: null });
      await tx.virtualMachines.delete(vmId);
      return { result: null, id: vmId, scope: { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id }, detail: { name: vm.name, hostId: vm.host_id } };
    },
  });
}
