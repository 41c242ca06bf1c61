// Keeps the master's view of a host's VMs in step with what its agent says: the agent's state
// wins for the VMs it knows; VMs it lacks become 'unknown' (never deleted here); VMs it has
// that the master does not know are reported, not adopted or deleted.

import type { VmState } from '../store/tables.js';
import type { AgentVmState } from './agent-api-types.js';

/** A VM the master has placed on the host. */
export interface MasterVm {
  id: string;
  /** Its name on the host's agent. */
  name: string;
  state: VmState;
}

/** A VM as the agent lists it (GET /vms). */
export interface AgentVmView {
  name: string;
  state: AgentVmState;
  lastExit?: { reason: string } | null;
}

export interface VmStateChange {
  vmId: string;
  name: string;
  from: VmState;
  to: VmState;
  reason: string;
}

/** A VM on the agent the master has no record of placing there. */
export interface StrayVm {
  name: string;
  state: AgentVmState;
}

export interface Reconciliation {
  changes: VmStateChange[];
  strays: StrayVm[];
}

export const MISSING_ON_HOST = 'missing on host';

export function reconcile(master: readonly MasterVm[], agent: readonly AgentVmView[]): Reconciliation {
  const onAgent = new Map(agent.map((vm) => [vm.name, vm]));
  const known = new Set(master.map((vm) => vm.name));
  const changes: VmStateChange[] = [];
  for (const vm of master) {
    const there = onAgent.get(vm.name);
    // A VM being deleted is the deletion's to finish, whatever the agent says.
    if (vm.state === 'deleting') continue;
    if (there === undefined) {
      if (vm.state !== 'unknown') changes.push({ vmId: vm.id, name: vm.name, from: vm.state, to: 'unknown', reason: MISSING_ON_HOST });
      continue;
    }
    if (there.state === vm.state) continue;
    const exit = there.lastExit?.reason;
    const reason = (there.state === 'crashed' || there.state === 'stopped') && exit !== undefined ? exit : `reported by the host (${there.state})`;
    changes.push({ vmId: vm.id, name: vm.name, from: vm.state, to: there.state, reason });
  }
  const strays = agent.filter((vm) => !known.has(vm.name)).map((vm) => ({ name: vm.name, state: vm.state }));
  return { changes, strays };
}

/** When the host is down: every VM the master has there becomes 'unknown', with why. */
export function markUnknown(master: readonly MasterVm[], reason: string): VmStateChange[] {
  return master
    .filter((vm) => vm.state !== 'unknown' && vm.state !== 'deleting')
    .map((vm) => ({ vmId: vm.id, name: vm.name, from: vm.state, to: 'unknown' as const, reason }));
}
