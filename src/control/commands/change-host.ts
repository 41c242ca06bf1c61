// Changing and removing a registered host: maintenance on and off (a host in maintenance takes
// no new VMs and is never marked down), and removal, refused while VMs are placed on it.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import type { Host } from '../store/hosts.js';
import { recordChange } from './record-change.js';

export interface HostChangeRequest {
  name?: string | undefined;
  maintenance?: boolean | undefined;
}

export async function changeHost(master: MasterServices, caller: Caller, id: string, expectedVersion: number, request: HostChangeRequest): Promise<Host> {
  const host = await recordChange(master, caller, {
    action: 'host.update', resource: 'host',
    apply: async (repos) => {
      const current = await repos.hosts.get(id);
      const maintenance = request.maintenance === undefined ? {}
        : request.maintenance ? { state: 'maintenance' as const, state_reason: `maintenance, set by ${caller.userName}` }
        // Up until the heartbeat finds otherwise.
        : current.state === 'maintenance' ? { state: 'up' as const, state_reason: `maintenance ended by ${caller.userName}` } : {};
      const changed = await repos.hosts.update(id, expectedVersion, { ...(request.name === undefined ? {} : { name: request.name }), ...maintenance });
      return { result: changed, id, scope: { dataCenterId: changed.data_center_id }, detail: { ...request } };
    },
  });
  if (request.maintenance !== undefined) master.fleet.setMaintenance(id, request.maintenance);
  return host;
}

export async function removeHost(master: MasterServices, caller: Caller, id: string, expectedVersion: number | null): Promise<void> {
  await recordChange(master, caller, {
    action: 'host.delete', resource: 'host',
    apply: async (repos) => {
      const host = await repos.hosts.get(id);
      if (expectedVersion !== null && host.version !== expectedVersion) await repos.hosts.update(id, expectedVersion, {});
      const placed = await repos.virtualMachines.countOnHost(id);
      if (placed > 0) throw new MasterApiError('conflict', `${placed} VM${placed === 1 ? ' is' : 's are'} placed on host ${host.name}; delete or move them first`, { id, vms: placed });
      await repos.hosts.delete(id);
      return { result: null, id, scope: { dataCenterId: host.data_center_id }, detail: { name: host.name } };
    },
  });
  master.fleet.unwatch(id);
}
