// Changing a VM's resource limits: the CPU weight and cap and each disk's I/O limits are stored
// in its definition and, when the VM runs, put in force at once: the CPU slices are decided again,
// and each disk gets its limits (or, with a host disk budget, its share of it) through the VM's API.

import type { IoLimits } from '../storage/qos/io-limits.js';
import { validate, type JsonSchema } from '../vm/api/json-schema.js';
import type { HostAgent } from './host-agent.js';
import { HostError } from './host-error.js';
import { CPU_SCHEMA, diskSerial, IO_LIMITS_SCHEMA, type CpuSpec } from './vm-definition.js';

export interface LimitsRequest {
  cpu?: Partial<CpuSpec>;
  /** By disk serial (vireo-disk-0, ...): the disk's new limits, in full. */
  disks?: Record<string, IoLimits>;
}

export const LIMITS_REQUEST_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cpu: CPU_SCHEMA,
    disks: { type: 'object', description: 'By disk serial (vireo-disk-0, vireo-disk-1, ...): the disk\'s limits, replacing the old ones' },
  },
};

/** What happened to each limit: "applied", "stored" (the VM is not running) or "not applied: why". */
export interface LimitsOutcome {
  cpu?: { weight: string; capPercent: string };
  disks: Record<string, string>;
}

export async function updateLimits(agent: HostAgent, name: string, request: LimitsRequest): Promise<LimitsOutcome> {
  const vm = agent.get(name);
  const spec = vm.definition.spec;
  const disks = spec.disks.map((d) => ({ ...d }));
  for (const [serial, limits] of Object.entries(request.disks ?? {})) {
    const index = disks.findIndex((_, i) => diskSerial(i) === serial);
    if (index < 0) throw new HostError('not-found', `VM ${name} has no disk ${serial}; its disks are ${disks.map((_, i) => diskSerial(i)).join(', ') || 'none'}`, { vm: name });
    const problem = validate(IO_LIMITS_SCHEMA, limits, `body.disks.${serial}`);
    if (problem !== null) throw new HostError('invalid-request', problem, { vm: name });
    disks[index]!.limits = limits;
  }
  const cpu = { ...spec.cpu, ...request.cpu };
  await agent.saveDefinition(vm, { ...vm.definition, spec: { ...spec, cpu, disks } });
  const outcome: LimitsOutcome = { disks: {} };
  if (request.cpu !== undefined) outcome.cpu = await agent.applyCpu(vm);
  if (agent.io.sharing && vm.process !== null && (request.disks !== undefined || request.cpu?.weight !== undefined)) {
    // The disks' shares of the host's budget follow the new limits and weight.
    await agent.io.rebalance();
    const inForce = agent.io.report(vm) ?? {};
    for (const serial of Object.keys(request.disks ?? {})) outcome.disks[serial] = `applied as its share of the host's disk budget: ${JSON.stringify(inForce[serial] ?? {})}`;
    return outcome;
  }
  for (const [serial, limits] of Object.entries(request.disks ?? {})) {
    if (vm.process === null) {
      outcome.disks[serial] = 'stored';
      continue;
    }
    try {
      await vm.callVm('PUT', `/vm/disks/${encodeURIComponent(serial)}/limits`, limits);
      outcome.disks[serial] = 'applied';
    } catch (e) {
      outcome.disks[serial] = `not applied: ${(e as Error).message}`;
    }
  }
  return outcome;
}
