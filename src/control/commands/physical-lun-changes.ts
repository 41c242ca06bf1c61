// Adding a host's storage to the master: a physical LUN the host agent creates (or already has:
// its own `default`, or one made before) in a directory of that host; virtual LUNs are carved
// from it later. Removing one is refused while virtual LUNs remain on it.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { AgentPhysicalLun } from '../hosts/agent-api-types.js';
import type { MasterServices } from '../master-services.js';
import type { PhysicalLun } from '../store/physical-luns.js';
import { repositories } from '../store/repositories.js';
import { agentFailure, isMissingOnAgent } from './agent-failure.js';
import { recordChange } from './record-change.js';

/** The agent's own physical LUN in its data directory, which it never forgets. */
const AGENT_DEFAULT_LUN = 'default';

export interface AddPhysicalLunRequest {
  hostId: string;
  name: string;
  /** A directory on the host; absent: the agent's physical LUN of that name, as it is. */
  path?: string | undefined;
  capacityBytes?: number | undefined;
}

export async function addPhysicalLun(master: MasterServices, caller: Caller, request: AddPhysicalLunRequest): Promise<PhysicalLun> {
  const repos = repositories(master.store.db);
  const host = await repos.hosts.get(request.hostId);
  if (host.state === 'down') throw new MasterApiError('conflict', `host ${host.name} is down (${host.state_reason})`, { field: 'hostId' });
  if (await repos.physicalLuns.getByName(host.id, request.name).catch(() => undefined) !== undefined) {
    throw new MasterApiError('conflict', `host ${host.name} already has a physical LUN named ${request.name}`, { field: 'name' });
  }
  const client = master.fleet.client(host);
  let lun: AgentPhysicalLun;
  try {
    if (request.path === undefined) {
      const found = (await client.listLuns()).find((l) => l.name === request.name);
      if (found === undefined) throw new MasterApiError('invalid-request', `path: host ${host.name} has no physical LUN named ${request.name}; give the directory to make it in`, { field: 'path' });
      lun = found;
    } else {
      lun = await client.addLun({ name: request.name, path: request.path, ...(request.capacityBytes === undefined ? {} : { capacityBytes: request.capacityBytes }) });
    }
  } catch (e) {
    throw agentFailure(e, host.name, `add the physical LUN ${request.name}`);
  }
  return recordChange(master, caller, {
    action: 'physical-lun.create', resource: 'physical-lun',
    apply: async (tx) => {
      const row = await tx.physicalLuns.create({ data_center_id: host.data_center_id, host_id: host.id, name: lun.name, path: lun.path, capacity_bytes: lun.usage.capacityBytes });
      return { result: row, id: row.id, scope: { dataCenterId: row.data_center_id }, detail: { name: row.name, hostId: host.id, path: row.path } };
    },
  });
}

export async function removePhysicalLun(master: MasterServices, caller: Caller, id: string, expectedVersion: number | null): Promise<void> {
  const repos = repositories(master.store.db);
  const lun = await repos.physicalLuns.get(id);
  if (expectedVersion !== null && lun.version !== expectedVersion) await repos.physicalLuns.update(id, expectedVersion, {});
  const carved = await repos.virtualLuns.list({ physical_lun_id: id }, { limit: 1 });
  if (carved.items.length > 0) throw new MasterApiError('conflict', `virtual LUNs remain on the physical LUN ${lun.name}; delete them first`, { id });
  const host = await repos.hosts.get(lun.host_id);
  if (lun.name !== AGENT_DEFAULT_LUN) {
    try {
      await master.fleet.client(host).removeLun(lun.name);
    } catch (e) {
      if (!isMissingOnAgent(e)) throw agentFailure(e, host.name, `remove the physical LUN ${lun.name}`);
    }
  }
  await recordChange(master, caller, {
    action: 'physical-lun.delete', resource: 'physical-lun',
    apply: async (tx) => {
      await tx.physicalLuns.delete(id);
      return { result: null, id, scope: { dataCenterId: lun.data_center_id }, detail: { name: lun.name, hostId: lun.host_id } };
    },
  });
}
