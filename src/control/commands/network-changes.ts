// A tenant's networks in a data center: `switch`, a segment of its own that only its VMs on it
// share (a switch per host agent, named after the network), or `user`, NAT to the outside through
// the host's own sockets. The hosts' switches come and go with the VMs; the master keeps the name.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { vmSpecOf } from '../hosts/master-vm-spec.js';
import type { MasterServices } from '../master-services.js';
import type { Network, NewNetwork } from '../store/networks.js';
import { allPages } from '../store/page.js';
import { recordChange } from './record-change.js';

export async function createNetwork(master: MasterServices, caller: Caller, request: NewNetwork): Promise<Network> {
  return recordChange(master, caller, {
    action: 'network.create', resource: 'network',
    apply: async (tx) => {
      const row = await tx.networks.create(request);
      return { result: row, id: row.id, scope: { dataCenterId: row.data_center_id, tenantId: row.tenant_id }, detail: { name: row.name, kind: row.kind } };
    },
  });
}

export async function renameNetwork(master: MasterServices, caller: Caller, id: string, expectedVersion: number, name: string): Promise<Network> {
  return recordChange(master, caller, {
    action: 'network.update', resource: 'network',
    apply: async (tx) => {
      const row = await tx.networks.update(id, expectedVersion, { name });
      return { result: row, id, scope: { dataCenterId: row.data_center_id, tenantId: row.tenant_id }, detail: { name } };
    },
  });
}

export async function deleteNetwork(master: MasterServices, caller: Caller, id: string, expectedVersion: number | null): Promise<void> {
  await recordChange(master, caller, {
    action: 'network.delete', resource: 'network',
    apply: async (tx) => {
      const row = await tx.networks.get(id);
      if (expectedVersion !== null && row.version !== expectedVersion) await tx.networks.update(id, expectedVersion, {});
      const vms = await allPages((page) => tx.virtualMachines.list({ tenant_id: row.tenant_id }, page));
      const users = vms.filter((vm) => vmSpecOf(vm).networkId === id).map((vm) => vm.name);
      if (users.length > 0) throw new MasterApiError('conflict', `VMs are on the network ${row.name}: ${users.join(', ')}; delete them first`, { id, vms: users });
      await tx.networks.delete(id);
      return { result: null, id, scope: { dataCenterId: row.data_center_id, tenantId: row.tenant_id }, detail: { name: row.name } };
    },
  });
}
