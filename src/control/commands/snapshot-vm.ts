// Saving a whole-VM snapshot: answered at once with an operation (202) in which the VM's host
// agent saves it. The file is one the agent names under its own data directory
// (DIR/vms/NAME/snapshots/TIME.vmsnap): a path from the caller could overwrite any file of the host.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { recordVmState } from '../hosts/host-fleet.js';
import { vmSpecOf } from '../hosts/master-vm-spec.js';
import type { MasterServices } from '../master-services.js';
import type { Operation } from '../store/operations.js';
import { agentFailure } from './agent-failure.js';
import { forwardProgress } from './agent-progress.js';
import { recordChange } from './record-change.js';
import { vmOnHost } from './vm-on-host.js';

export async function snapshotVm(master: MasterServices, caller: Caller, vmId: string, request: { name?: string | undefined } = {}): Promise<Operation> {
  const { vm, host } = await vmOnHost(master, vmId);
  if (vm.state !== 'running' && vm.state !== 'paused') throw new MasterApiError('conflict', `the VM ${vm.name} is ${vm.state}: only a running or paused VM is snapshotted`, { id: vmId, state: vm.state });

  const label = request.name ?? new Date().toISOString();
  const scope = { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id };
  const op = await recordChange(master, caller, {
    action: 'vm.snapshot', resource: 'vm',
    apply: async (tx) => {
      const created = await tx.operations.create({ kind: 'vm.snapshot', target_kind: 'vm', target_id: vmId, user_id: caller.userId, message: 'queued' });
      return { result: created, id: vmId, scope, detail: { operation: created.id, snapshot: label, hostId: host.id } };
    },
  });

  const client = master.fleet.client(host);
  const name = vmSpecOf(vm).agentName;
  master.operations.run(op, scope, async (report, signal) => {
    await report(0.05, `asking host ${host.name} to snapshot the VM`);
    const progress = forwardProgress(report, 'saving', 0.1, 0.95);
    try {
      const done = await client.snapshotVm(name, {}, { signal, onProgress: progress.onProgress });
      await progress.settled();
      const result = (done.result ?? {}) as { path?: unknown; bytes?: unknown };
      const size = typeof result.bytes === 'number' ? ` (${result.bytes} bytes)` : '';
      return `snapshot ${label} of ${vm.name} saved on host ${host.name} at ${String(result.path)}${size}`;
    } catch (e) {
      await progress.settled();
      const now = await client.getVm(name).catch(() => undefined);
      if (now !== undefined) await recordVmState(master, vmId, now.state, `snapshot failed: ${(e as Error).message}`);
      throw agentFailure(e, host.name, `snapshot the VM ${vm.name}`);
    }
  });
  return op;
}
