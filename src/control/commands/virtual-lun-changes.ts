// A tenant's virtual LUNs: thin qcow2 volumes carved from a physical LUN of its data center,
// made on the host first and recorded after (a failed record removes the volume again). They
// outlive the VMs they are attached to; one is deleted only when detached.

import { randomUUID } from 'node:crypto';
import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { HostLinkError } from '../hosts/host-link-error.js';
import { agentVolumeName } from '../hosts/master-vm-spec.js';
import type { MasterServices } from '../master-services.js';
import { authorize } from '../security/permissions.js';
import { allPages } from '../store/page.js';
import type { PhysicalLun } from '../store/physical-luns.js';
import { repositories, type Repositories } from '../store/repositories.js';
import type { VirtualLun } from '../store/virtual-luns.js';
import { agentFailure, isMissingOnAgent } from './agent-failure.js';
import { recordChange } from './record-change.js';

export interface CreateVirtualLunRequest {
  tenantId: string;
  dataCenterId: string;
  name: string;
  sizeGiB: number;
  /** This physical LUN only (for those who may see physical LUNs); otherwise the least provisioned. */
  physicalLunId?: string | undefined;
}

export async function createVirtualLun(master: MasterServices, caller: Caller, request: CreateVirtualLunRequest): Promise<VirtualLun> {
  const repos = repositories(master.store.db);
  if (await repos.virtualLuns.getByName(request.tenantId, request.name).catch(() => undefined) !== undefined) {
    throw new MasterApiError('conflict', `the tenant already has a virtual LUN named ${request.name}`, { field: 'name' });
  }
  const sizeMiB = Math.ceil(request.sizeGiB * 1024);
  const id = randomUUID();
  const refusals: string[] = [];
  for (const physical of await candidates(repos, caller, request)) {
    const host = await repos.hosts.get(physical.host_id);
    if (host.state !== 'up') {
      refusals.push(`${physical.name} on ${host.name}: the host is ${host.state}`);
      continue;
    }
    const client = master.fleet.client(host);
    try {
      await client.createVolume(physical.name, { name: agentVolumeName(id), sizeMiB });
    } catch (e) {
      // A physical LUN without room says so; the next may have it.
      if (e instanceof HostLinkError && e.kind === 'refused' && e.agentKind === 'over-budget') {
        refusals.push(`${physical.name} on ${host.name}: ${e.message}`);
        continue;
      }
      throw agentFailure(e, host.name, `create the virtual LUN ${request.name}`);
    }
    try {
      return await recordChange(master, caller, {
        action: 'virtual-lun.create', resource: 'virtual-lun',
        apply: async (tx) => {
          const row = await tx.virtualLuns.create({ tenant_id: request.tenantId, physical_lun_id: physical.id, name: request.name, size_bytes: sizeMiB * 2 ** 20 }, id);
          return { result: row, id, scope: { dataCenterId: physical.data_center_id, tenantId: request.tenantId }, detail: { name: row.name, sizeBytes: row.size_bytes, physicalLunId: physical.id } };
        },
      });
    } catch (e) {
      await client.deleteVolume(physical.name, agentVolumeName(id)).catch(() => {});
      throw e;
    }
  }
  const why = refusals.length === 0 ? 'the data center has no physical LUN (an operator adds one: POST /api/v1/physical-luns)' : refusals.join('; ');
  throw new MasterApiError('conflict', `no physical LUN has room for ${request.sizeGiB} GiB: ${why}`, { rejected: refusals });
}

/** The physical LUNs to try, least provisioned for their capacity first. */
async function candidates(repos: Repositories, caller: Caller, request: CreateVirtualLunRequest): Promise<PhysicalLun[]> {
  if (request.physicalLunId !== undefined) {
    const missing = new MasterApiError('not-found', `no physical LUN ${request.physicalLunId}`, { field: 'physicalLunId' });
    const lun = await repos.physicalLuns.get(request.physicalLunId).catch(() => undefined);
    if (lun === undefined || !authorize(caller, 'physical-lun.read', { dataCenterId: lun.data_center_id }).allowed) throw missing;
    if (lun.data_center_id !== request.dataCenterId) throw new MasterApiError('conflict', `the physical LUN ${lun.name} is in another data center`, { field: 'physicalLunId' });
    return [lun];
  }
  const all = await allPages((page) => repos.physicalLuns.list({ data_center_id: request.dataCenterId }, page));
  const load = new Map(await Promise.all(all.map(async (lun) => [lun.id, (await repos.virtualLuns.provisionedBytes(lun.id)) / Math.max(1, lun.capacity_bytes)] as const)));
  return all.sort((a, b) => load.get(a.id)! - load.get(b.id)!);
}

export async function renameVirtualLun(master: MasterServices, caller: Caller, id: string, expectedVersion: number, name: string): Promise<VirtualLun> {
  return recordChange(master, caller, {
    action: 'virtual-lun.update', resource: 'virtual-lun',
    apply: async (tx) => {
      const row = await tx.virtualLuns.update(id, expectedVersion, { name });
      const physical = await tx.physicalLuns.get(row.physical_lun_id);
      return { result: row, id, scope: { dataCenterId: physical.data_center_id, tenantId: row.tenant_id }, detail: { name } };
    },
  });
}

export async function deleteVirtualLun(master: MasterServices, caller: Caller, id: string, expectedVersion: number | null): Promise<void> {
  const repos = repositories(master.store.db);
  const lun = await repos.virtualLuns.get(id);
  if (expectedVersion !== null && lun.version !== expectedVersion) await repos.virtualLuns.update(id, expectedVersion, {});
  if (lun.vm_id !== null) throw new MasterApiError('conflict', `the virtual LUN ${lun.name} is attached to a VM; delete the VM first`, { id, vmId: lun.vm_id });
  const physical = await repos.physicalLuns.get(lun.physical_lun_id);
  const host = await repos.hosts.get(physical.host_id);
  try {
    await master.fleet.client(host).deleteVolume(physical.name, agentVolumeName(id));
  } catch (e) {
    if (!isMissingOnAgent(e)) throw agentFailure(e, host.name, `delete the virtual LUN ${lun.name}`);
  }
  await recordChange(master, caller, {
    action: 'virtual-lun.delete', resource: 'virtual-lun',
    apply: async (tx) => {
      await tx.virtualLuns.delete(id);
      return { result: null, id, scope: { dataCenterId: physical.data_center_id, tenantId: lun.tenant_id }, detail: { name: lun.name } };
    },
  });
}
