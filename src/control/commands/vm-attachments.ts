// What a new VM attaches besides the disks made with it: a tenant's virtual LUNs (free, of its
// own tenant, all on the physical LUNs of one host, which then is the VM's host) and one network
// of its tenant in its data center. Another tenant's LUN or network is answered as missing.

import { MasterApiError } from '../api/master-api-error.js';
import { agentNetworkName, agentVolumeName, type MasterVmDisk } from '../hosts/master-vm-spec.js';
import type { Repositories } from '../store/repositories.js';
import type { VirtualLun } from '../store/virtual-luns.js';

/** How the agent's definition names a disk or the network. */
export type AgentDiskRequest = { sizeMiB: number } | { volume: { lun: string; name: string } };
export type AgentNetworkRequest = 'none' | 'user' | { name: string };

export interface VmAttachments {
  disks: AgentDiskRequest[];
  network: AgentNetworkRequest;
  /** The attached virtual LUNs, as read. */
  luns: VirtualLun[];
  /** Where the attached LUNs are, which the VM must be placed on; null when none is attached. */
  hostId: string | null;
}

export interface AttachRequest {
  tenantId: string;
  dataCenterId: string;
  disks: readonly MasterVmDisk[];
  networkId?: string | undefined;
}

export async function resolveAttachments(repos: Repositories, request: AttachRequest): Promise<VmAttachments> {
  const luns: VirtualLun[] = [];
  let hostId: string | null = null;
  const disks: AgentDiskRequest[] = [];
  for (const [i, disk] of request.disks.entries()) {
    if ('sizeGiB' in disk) {
      disks.push({ sizeMiB: Math.ceil(disk.sizeGiB * 1024) });
      continue;
    }
    const field = `disks.${i}.virtualLunId`;
    if (luns.some((lun) => lun.id === disk.virtualLunId)) throw new MasterApiError('invalid-request', `${field}: the virtual LUN is named twice`, { field });
    const lun = await repos.virtualLuns.get(disk.virtualLunId);
    if (lun.tenant_id !== request.tenantId) throw new MasterApiError('not-found', `no virtual LUN ${disk.virtualLunId}`, { field });
    if (lun.vm_id !== null) throw new MasterApiError('conflict', `the virtual LUN ${lun.name} is attached to another VM; detach it first`, { field, vmId: lun.vm_id });
    const physical = await repos.physicalLuns.get(lun.physical_lun_id);
    if (physical.data_center_id !== request.dataCenterId) throw new MasterApiError('conflict', `the virtual LUN ${lun.name} is in another data center`, { field });
    if (hostId !== null && physical.host_id !== hostId) throw new MasterApiError('conflict', `the virtual LUNs are on different hosts; a VM reaches the disks of its own host only`, { field });
    hostId = physical.host_id;
    luns.push(lun);
    disks.push({ volume: { lun: physical.name, name: agentVolumeName(lun.id) } });
  }
  return { disks, luns, hostId, network: await networkOf(repos, request) };
}

async function networkOf(repos: Repositories, request: AttachRequest): Promise<AgentNetworkRequest> {
  if (request.networkId === undefined) return 'none';
  const network = await repos.networks.get(request.networkId);
  if (network.tenant_id !== request.tenantId) throw new MasterApiError('not-found', `no network ${request.networkId}`, { field: 'networkId' });
  if (network.data_center_id !== request.dataCenterId) throw new MasterApiError('conflict', `the network ${network.name} is in another data center`, { field: 'networkId' });
  return network.kind === 'user' ? 'user' : { name: agentNetworkName(network.id) };
}
