// Live migration to another host of the VM's data center: answered at once with an operation
// (202) in which the source agent sends the running VM to the destination agent, which listens
// for it first. Only once the VM has arrived does the master place it on the destination; a
// failed migration leaves it where it was.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { AgentVm } from '../hosts/agent-api-types.js';
import { tcpAddress, type HostAgentClient } from '../hosts/host-agent-client.js';
import { recordVmState } from '../hosts/host-fleet.js';
import { attachedLunsOf, diskBytesOf, vmSpecOf } from '../hosts/master-vm-spec.js';
import { placeVm } from '../hosts/placement.js';
import type { MasterServices } from '../master-services.js';
import type { Host } from '../store/hosts.js';
import type { Operation } from '../store/operations.js';
import { repositories } from '../store/repositories.js';
import { agentFailure } from './agent-failure.js';
import { forwardProgress } from './agent-progress.js';
import { placementHostsOf } from './placement-hosts.js';
import { recordChange } from './record-change.js';
import { vmOnHost } from './vm-on-host.js';

/** How long the destination may take to report the arrived VM running. */
const SETTLE_MS = 10_000;

export async function migrateVm(master: MasterServices, caller: Caller, vmId: string, request: { hostId: string }): Promise<Operation> {
  const { vm, host: source } = await vmOnHost(master, vmId);
  const spec = vmSpecOf(vm);
  // Its virtual LUNs are volumes of its host's physical LUNs; the master does not move them.
  if (attachedLunsOf(spec).length > 0) {
    throw new MasterApiError('conflict', `the VM ${vm.name} has virtual LUNs on host ${source.name}'s physical LUNs, which do not move with it`, { id: vmId, field: 'hostId' });
  }
  if (vm.state !== 'running' && vm.state !== 'paused') throw new MasterApiError('conflict', `the VM ${vm.name} is ${vm.state}: only a running or paused VM migrates live`, { id: vmId, state: vm.state });
  if (request.hostId === source.id) throw new MasterApiError('conflict', `the VM ${vm.name} is already on host ${source.name}`, { id: vmId, field: 'hostId' });
  const repos = repositories(master.store.db);
  const hosts = await placementHostsOf(repos, vm.data_center_id);
  // A host of another data center is not among the candidates: refused like one without room.
  const placement = placeVm({
    dataCenterId: vm.data_center_id, tenantId: vm.tenant_id, cpus: vm.cpus, memoryMiB: vm.memory_mib, diskBytes: diskBytesOf(spec), hostId: request.hostId,
  }, hosts.map((h) => h.candidate));
  if (!placement.ok) {
    const reason = placement.rejected.length === 0 ? `host ${request.hostId} is not a host of the VM's data center` : placement.reason;
    throw new MasterApiError('conflict', `cannot migrate the VM ${vm.name}: ${reason}`, { id: vmId, field: 'hostId', rejected: placement.rejected });
  }
  const destination = hosts.find((h) => h.candidate.id === placement.hostId)!.row;

  const scope = { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id };
  const op = await recordChange(master, caller, {
    action: 'vm.migrate', resource: 'vm',
    apply: async (tx) => {
      const created = await tx.operations.create({ kind: 'vm.migrate', target_kind: 'vm', target_id: vmId, user_id: caller.userId, message: 'queued' });
      return { result: created, id: vmId, scope, detail: { operation: created.id, fromHostId: source.id, toHostId: destination.id } };
    },
  });

  const from = master.fleet.client(source);
  const to = master.fleet.client(destination);
  master.operations.run(op, scope, async (report, signal) => {
    await report(0.05, `asking host ${destination.name} to receive the VM from host ${source.name}`);
    const progress = forwardProgress(report, `migrating to host ${destination.name}`, 0.1, 0.9);
    try {
      await from.migrateVm(spec.agentName, to, listenOn(destination), { signal, onProgress: progress.onProgress });
      await progress.settled();
    } catch (e) {
      await progress.settled();
      const now = await from.getVm(spec.agentName).catch(() => undefined);
      await recordVmState(master, vmId, now?.state ?? 'unknown', `migration to host ${destination.name} failed: ${(e as Error).message}`);
      throw agentFailure(e, source.name, `migrate the VM ${vm.name} to host ${destination.name}`);
    }
    await report(0.95, `recording the VM on host ${destination.name}`);
    const arrived = await settledOn(to, spec.agentName, signal);
    await recordChange(master, caller, {
      action: 'vm.migrated', resource: 'vm',
      apply: async (tx) => {
        const row = await tx.virtualMachines.get(vmId);
        const moved = await tx.virtualMachines.update(vmId, row.version, {
          host_id: destination.id, state: arrived?.state ?? 'unknown', state_reason: `migrated from ${source.name} by ${caller.userName}`,
        });
        return { result: moved, id: vmId, scope, detail: { operation: op.id, fromHostId: source.id, toHostId: destination.id, state: moved.state, hostId: destination.id } };
      },
    });
    // The source keeps a stopped definition of the VM that left; its files (disks as they were,
    // snapshots) stay for their owner, but a second definition would be started by mistake.
    const forgotten = await from.deleteVm(spec.agentName, {}, { signal }).then(() => '', (e: unknown) => `; host ${source.name} still lists it: ${(e as Error).message}`);
    master.events.publish({ type: 'vm.state', resource: 'vm', id: vmId, scope, data: { state: arrived?.state ?? 'unknown', hostId: destination.id } });
    return `${arrived?.state ?? 'unknown'} on host ${destination.name} (from host ${source.name})${forgotten}`;
  });
  return op;
}

/** The VM as the destination reports it once it has taken it on (it says 'starting' for a moment after the VM arrives). */
async function settledOn(agent: HostAgentClient, name: string, signal: AbortSignal): Promise<AgentVm | undefined> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const vm = await agent.getVm(name, { signal }).catch(() => undefined);
    if (vm?.state !== 'starting' || Date.now() >= deadline || signal.aborted) return vm;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The destination listens where the source reaches it: its agent's TCP host (the agents' default otherwise). */
function listenOn(destination: Host): { listenHost?: string } {
  const tcp = tcpAddress(destination.url);
  return tcp === null ? {} : { listenHost: tcp.host };
}
