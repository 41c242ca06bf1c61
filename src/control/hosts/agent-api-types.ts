// The shapes of the host agent's answers the master reads (src/host/api/host-api-schemas.ts
// declares them for the agent; docs/host-agent.md describes them). Definitions, physical LUNs
// and volumes are the agent's own types.

import type { VmDefinition } from '../../host/vm-definition.js';

export type { DefineRequest, VmDefinition } from '../../host/vm-definition.js';
/** GET /luns, /luns/{lun}: a physical LUN of the host (`default` is the agent's own), and a volume carved from one. */
export type { PhysicalLunView as AgentPhysicalLun, VolumeView as AgentVolume } from '../../host/agent-storage.js';
export type { Operation as AgentOperation } from '../../vm/api/operation-registry.js';

export type AgentVmState = 'defined' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'crashed';

export interface AgentNetwork {
  name: string;
  socket: string;
  ports: number;
  macs: string[];
}

/** GET /host. */
export interface AgentHostInfo {
  cores: number;
  memory: { totalBytes: number; freeBytes: number; budgetMiB: number; chargedMiB: number; vmRssBytes: number };
  storage: { capacityBytes: number; provisioned: number; allocated: number; free: number };
  vms: { total: number; byState: Partial<Record<AgentVmState, number>> };
  cpu: { capacityPercent: number };
  diskBudget: { iops: number | null; bps: number | null };
  networks: AgentNetwork[];
}

export interface AgentVmExit {
  at: string;
  code: number | null;
  signal: string | null;
  reason: string;
}

/** GET /vms/{name}, and the answer of define, start, stop, pause and resume. */
export interface AgentVm {
  name: string;
  uuid: string;
  state: AgentVmState;
  pid: number | null;
  autostart: boolean;
  restarts: number;
  lastExit: AgentVmExit | null;
  definition: VmDefinition;
}

/** GET /vms/{name}/stats. */
export interface AgentVmStats {
  name: string;
  state: AgentVmState;
  pid: number | null;
  restarts: number;
  lastExit: AgentVmExit | null;
  uptimeMs: number | null;
  rssBytes: number | null;
  chargedMiB: number;
  consoleBytes: number;
  cpu: { weight: number; capPercent: number | null; effectiveCapPercent: number | null; usedPercent: number | null };
  diskLimits: Record<string, unknown> | null;
  status: Record<string, unknown> | null;
  vm: Record<string, unknown> | null;
}
