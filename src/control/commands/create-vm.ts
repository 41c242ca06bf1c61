// Creating a VM: placed on a host of its data center with room for it (or the host asked for, or
// the host of the virtual LUNs it attaches), defined on that host's agent, then recorded with its
// LUNs marked attached; one placement at a time per data center. The agent comes first so that a VM the master lists always exists on its
// host; a record that fails undoes the definition.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { diskBytesOf, newAgentVmName, type MasterVmBoot, type MasterVmDisk, type MasterVmSpec } from '../hosts/master-vm-spec.js';
import { placeVm } from '../hosts/placement.js';
import type { MasterServices } from '../master-services.js';
import { repositories } from '../store/repositories.js';
import type { VirtualMachine } from '../store/virtual-machines.js';
import { posix } from 'node:path';
import { authorize } from '../security/permissions.js';
import { agentFailure } from './agent-failure.js';
import { placementHostsOf } from './placement-hosts.js';
import { recordChange } from './record-change.js';
import { resolveAttachments, type VmAttachments } from './vm-attachments.js';

export interface CreateVmRequest {
  tenantId: string;
  dataCenterId: string;
  name: string;
  cpus: number;
  memoryMiB: number;
  hostId?: string | undefined;
  disks?: MasterVmDisk[] | undefined;
  networkId?: string | undefined;
  boot: MasterVmBoot;
  jit?: 'on' | 'off' | undefined;
}

export async function createVm(master: MasterServices, caller: Caller, request: CreateVmRequest): Promise<VirtualMachine> {
  checkBootFiles(master, caller, request);
  const repos = repositories(master.store.db);
  if (await repos.virtualMachines.getByName(request.tenantId, request.name).catch(() => undefined) !== undefined) {
    throw new MasterApiError('conflict', `the tenant already has a VM named ${request.name}`, { field: 'name' });
  }
  const spec: MasterVmSpec = {
    agentName: newAgentVmName(), disks: request.disks ?? [], boot: request.boot, jit: request.jit ?? 'on',
    ...(request.networkId === undefined ? {} : { networkId: request.networkId }),
  };
  const attached = await resolveAttachments(repos, { tenantId: request.tenantId, dataCenterId: request.dataCenterId, disks: spec.disks, networkId: request.networkId });
  if (attached.hostId !== null && request.hostId !== undefined && request.hostId !== attached.hostId) {
    throw new MasterApiError('conflict', 'the virtual LUNs it attaches are on another host than the one asked for', { field: 'hostId' });
  }
  const hostId = attached.hostId ?? request.hostId;
  return master.placements.run(request.dataCenterId, () => placeAndDefine(master, caller, request, spec, attached, hostId));
}

/** Chooses the host, defines the VM on its agent and records it, while no other placement in the data center runs. */
async function placeAndDefine(master: MasterServices, caller: Caller, request: CreateVmRequest, spec: MasterVmSpec, attached: VmAttachments, hostId: string | undefined): Promise<VirtualMachine> {
  const hosts = await placementHostsOf(repositories(master.store.db), request.dataCenterId);
  const placement = placeVm({
    dataCenterId: request.dataCenterId, tenantId: request.tenantId, cpus: request.cpus, memoryMiB: request.memoryMiB, diskBytes: diskBytesOf(spec),
    ...(hostId === undefined ? {} : { hostId }),
  }, hosts.map((h) => h.candidate));
  if (!placement.ok) throw new MasterApiError('conflict', placement.reason, { rejected: placement.rejected });
  const host = hosts.find((h) => h.candidate.id === placement.hostId)!.row;

  const client = master.fleet.client(host);
  try {
    await client.defineVm({
      name: spec.agentName,
      spec: {
        ramMiB: request.memoryMiB, cpus: request.cpus, jit: spec.jit, boot: spec.boot, disks: attached.disks, network: attached.network,
      },
    });
  } catch (e) {
    throw agentFailure(e, host.name, `define the VM ${request.name}`);
  }
  try {
    return await recordChange(master, caller, {
      action: 'vm.create', resource: 'vm',
      apply: async (tx) => {
        const vm = await tx.virtualMachines.create({
          tenant_id: request.tenantId, data_center_id: request.dataCenterId, host_id: host.id, name: request.name,
          cpus: request.cpus, memory_mib: request.memoryMiB, spec: JSON.stringify(spec), state: 'defined', state_reason: `placed on ${host.name}`,
        });
        // By the versions read: a LUN attached or changed meanwhile fails the whole creation.
        for (const lun of attached.luns) await tx.virtualLuns.update(lun.id, lun.version, { vm_id: vm.id });
        return { result: vm, id: vm.id, scope: { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id }, detail: { name: vm.name, hostId: host.id, hostName: host.name } };
      },
    });
  } catch (e) {
    await client.deleteVm(spec.agentName, { disks: true }).catch(() => {});
    throw e;
  }
}

/**
 * Boot files are paths on the host, read by its agent into the guest's memory: anyone who runs
 * the data center's hosts may name any; others only files in the master's boot directories
 * (`vireo master serve --boot-dir`), or a tenant could boot a host's secrets as an initramfs.
 */
function checkBootFiles(master: MasterServices, caller: Caller, request: CreateVmRequest): void {
  if (authorize(caller, 'host.update', { dataCenterId: request.dataCenterId }).allowed) return;
  const { kernel, firmware, initrd } = request.boot;
  for (const [field, path] of Object.entries({ kernel, firmware, initrd })) {
    if (path === undefined) continue;
    const normal = posix.normalize(path);
    if (normal !== path || !master.bootDirs.some((dir) => normal.startsWith(`${posix.normalize(dir).replace(/\/$/u, '')}/`))) {
      const allowed = master.bootDirs.length === 0 ? 'this master offers none (vireo master serve --boot-dir DIR)' : master.bootDirs.join(', ');
      throw new MasterApiError('forbidden', `boot.${field}: ${path} is not in the boot directories: ${allowed}`, { field: `boot.${field}` });
    }
  }
}
