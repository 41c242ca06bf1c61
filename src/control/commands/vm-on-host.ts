// What every action on a placed VM checks first: the VM is on a host, the host is not down, and
// no other operation is under way on the VM.

import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import type { Host } from '../store/hosts.js';
import { repositories } from '../store/repositories.js';
import type { VirtualMachine } from '../store/virtual-machines.js';

export async function vmOnHost(master: MasterServices, vmId: string): Promise<{ vm: VirtualMachine; host: Host }> {
  const repos = repositories(master.store.db);
  const vm = await repos.virtualMachines.get(vmId);
  if (vm.host_id === null) throw new MasterApiError('conflict', `the VM ${vm.name} is not placed on a host`, { id: vmId });
  const host = await repos.hosts.get(vm.host_id);
  if (host.state === 'down') throw new MasterApiError('conflict', `the VM's host ${host.name} is down (${host.state_reason}); try again when it is back`, { id: vmId, hostId: host.id });
  if (master.operations.isBusy(vmId)) throw new MasterApiError('conflict', `an operation is already under way on the VM ${vm.name}; wait for it to end`, { id: vmId });
  return { vm, host };
}
