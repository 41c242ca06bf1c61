// What the agent tells about a VM: its definition and run state, and its statistics (the VM
// process's own, from its API, with what the agent measures and records around it).

import { residentBytes } from './process-info.js';
import { chargeMiB } from './memory-budget.js';
import type { HostAgent } from './host-agent.js';
import type { VmInstance } from './vm-instance.js';

export function vmInfo(vm: VmInstance): Record<string, unknown> {
  return {
    name: vm.name,
    uuid: vm.definition.uuid,
    state: vm.state,
    pid: vm.process?.pid ?? null,
    autostart: vm.definition.autostart,
    restarts: vm.runtime.restarts,
    lastExit: vm.runtime.lastExit,
    definition: vm.definition,
  };
}

export async function vmStats(agent: HostAgent, vm: VmInstance): Promise<Record<string, unknown>> {
  const base = {
    cpu: agent.cpu.report(vm),
    diskLimits: agent.io.report(vm),
    name: vm.name,
    state: vm.state,
    pid: vm.process?.pid ?? null,
    restarts: vm.runtime.restarts,
    lastExit: vm.runtime.lastExit,
    uptimeMs: vm.startedAt === null ? null : Date.now() - vm.startedAt,
    rssBytes: vm.process === null ? null : await residentBytes(vm.process.pid),
    chargedMiB: chargeMiB(vm.definition.spec.ramMiB),
    consoleBytes: vm.console.totalBytes,
  };
  if (vm.process === null || vm.state === 'starting') return { ...base, status: null, vm: null };
  // Each part on its own: a VM process that lacks /vm/stats still reports its status.
  const [status, stats] = await Promise.all([vm.callVm('GET', '/vm').catch(describe), vm.callVm('GET', '/vm/stats').catch(describe)]);
  return { ...base, status, vm: stats };
}

function describe(e: Error): { error: string } {
  return { error: e.message };
}
