// Starting and stopping a VM: answered at once with an operation (202) that asks the VM's host
// agent and records what the agent then reports; the caller polls or waits on the operation.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { recordVmState } from '../hosts/host-fleet.js';
import { vmSpecOf } from '../hosts/master-vm-spec.js';
import type { MasterServices } from '../master-services.js';
import type { Operation } from '../store/operations.js';
import type { VmState } from '../store/tables.js';
import { agentFailure } from './agent-failure.js';
import { recordChange } from './record-change.js';
import { vmOnHost } from './vm-on-host.js';

export type PowerAction = 'start' | 'stop';

/** States from which an action makes no sense (the agent would refuse it too). */
const REFUSED_FROM: Record<PowerAction, ReadonlySet<VmState>> = {
  start: new Set(['starting', 'running', 'paused', 'stopping', 'deleting']),
  stop: new Set(['defined', 'stopped', 'crashed', 'deleting']),
};

export async function powerVm(master: MasterServices, caller: Caller, vmId: string, action: PowerAction, options: { force?: boolean } = {}): Promise<Operation> {
  const { vm, host } = await vmOnHost(master, vmId);
  if (REFUSED_FROM[action].has(vm.state)) throw new MasterApiError('conflict', `the VM ${vm.name} is ${vm.state}: it cannot ${action}`, { id: vmId, state: vm.state });

  const scope = { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id };
  const transitional: VmState = action === 'start' ? 'starting' : 'stopping';
  const op = await recordChange(master, caller, {
    action: `vm.${action}`, resource: 'vm',
    apply: async (tx) => {
      const created = await tx.operations.create({ kind: `vm.${action}`, target_kind: 'vm', target_id: vmId, user_id: caller.userId, message: 'queued' });
      await tx.virtualMachines.setState(vmId, transitional, `${action} asked by ${caller.userName}`);
      return { result: created, id: vmId, scope, detail: { operation: created.id, ...(options.force === true ? { force: true } : {}) } };
    },
  });
  master.events.publish({ type: 'vm.state', resource: 'vm', id: vmId, scope, data: { state: transitional, hostId: host.id } });

  const client = master.fleet.client(host);
  const name = vmSpecOf(vm).agentName;
  master.operations.run(op, scope, async (report, signal) => {
    await report(0.1, `asking host ${host.name} to ${action} the VM`);
    try {
      const answer = action === 'start' ? await client.startVm(name, { signal }) : await client.stopVm(name, { force: options.force === true }, { signal });
      await recordVmState(master, vmId, answer.state, `${action} by ${caller.userName}`);
      return `${answer.state} on host ${host.name}`;
    } catch (e) {
      // Whatever the agent has now, if it can say; else the heartbeat finds out.
      const now = await client.getVm(name).catch(() => undefined);
      await recordVmState(master, vmId, now?.state ?? 'unknown', `${action} failed: ${(e as Error).message}`);
      throw agentFailure(e, host.name, `${action} the VM ${vm.name}`);
    }
  });
  return op;
}
