// Where a new VM goes: a host of its data center that is up and has room for it (memory as the
// agent will charge it, vCPUs against cores times an overcommit ratio, storage for its disks).
// Pure and deterministic; when nothing fits, every host's reason is given.

import { chargeMiB } from '../../host/memory-budget.js';
import type { HostState } from '../store/tables.js';

/** vCPUs a host takes per core unless told otherwise. */
export const DEFAULT_CPU_OVERCOMMIT = 4;

/** A VM the master has placed on a host. */
export interface PlacedVm {
  tenantId: string;
  cpus: number;
  memoryMiB: number;
  diskBytes: number;
  /** Placed but not started yet: the agent does not charge it yet, so placement reserves it. */
  pending: boolean;
}

/** A candidate host: the master's record and its agent's last report. */
export interface PlacementHost {
  id: string;
  name: string;
  dataCenterId: string;
  state: HostState;
  cores: number;
  /** The agent's memory budget and what it charges the VMs it runs or is starting (GET /host memory). */
  memoryBudgetMiB: number;
  memoryChargedMiB: number;
  /** Free bytes of the agent's storage (GET /host storage.free). */
  storageFreeBytes: number;
  vms: readonly PlacedVm[];
}

export interface PlacementRequest {
  dataCenterId: string;
  tenantId: string;
  cpus: number;
  memoryMiB: number;
  /** The sizes of the disks to create for it. */
  diskBytes: number;
  /** Only this host (by id): placed there if it has room, else its reason. */
  hostId?: string;
}

export interface PlacementOptions {
  /** vCPUs per core (default 4). */
  cpuOvercommit?: number;
}

export interface HostRejection {
  hostId: string;
  hostName: string;
  reason: string;
}

export type Placement =
  | { ok: true; hostId: string; hostName: string }
  | { ok: false; reason: string; rejected: HostRejection[] };

interface Room {
  host: PlacementHost;
  freeMiB: number;
  vcpus: number;
  tenantVms: number;
  problems: string[];
}

export function placeVm(request: PlacementRequest, hosts: readonly PlacementHost[], options: PlacementOptions = {}): Placement {
  const ratio = options.cpuOvercommit ?? DEFAULT_CPU_OVERCOMMIT;
  const what = `a VM of ${request.cpus} vCPU${request.cpus === 1 ? '' : 's'}, ${request.memoryMiB} MiB RAM and ${formatBytes(request.diskBytes)} of disks`;
  if (request.hostId !== undefined) {
    const host = hosts.find((h) => h.id === request.hostId);
    if (host === undefined) return { ok: false, reason: `no host ${request.hostId}`, rejected: [] };
    if (host.dataCenterId !== request.dataCenterId) {
      const reason = `${host.name} is in data center ${host.dataCenterId}, not ${request.dataCenterId}`;
      return { ok: false, reason, rejected: [{ hostId: host.id, hostName: host.name, reason }] };
    }
    const room = measure(host, request, ratio);
    if (room.problems.length === 0) return { ok: true, hostId: host.id, hostName: host.name };
    const rejected = [{ hostId: host.id, hostName: host.name, reason: `${host.name}: ${room.problems.join('; ')}` }];
    return { ok: false, reason: `host ${host.name} cannot take ${what}: ${rejected[0]!.reason}`, rejected };
  }
  const rooms = hosts.filter((h) => h.dataCenterId === request.dataCenterId).map((h) => measure(h, request, ratio));
  if (rooms.length === 0) return { ok: false, reason: `no hosts in data center ${request.dataCenterId}`, rejected: [] };
  const fits = rooms.filter((r) => r.problems.length === 0).sort(better);
  const best = fits[0];
  if (best !== undefined) return { ok: true, hostId: best.host.id, hostName: best.host.name };
  const rejected = rooms.sort((a, b) => compareNames(a.host, b.host)).map((r) => ({ hostId: r.host.id, hostName: r.host.name, reason: `${r.host.name}: ${r.problems.join('; ')}` }));
  return { ok: false, reason: `no host in data center ${request.dataCenterId} has room for ${what}: ${rejected.map((r) => r.reason).join('; ')}`, rejected };
}

function measure(host: PlacementHost, request: PlacementRequest, ratio: number): Room {
  const pending = host.vms.filter((vm) => vm.pending);
  const freeMiB = host.memoryBudgetMiB - host.memoryChargedMiB - sum(pending.map((vm) => chargeMiB(vm.memoryMiB)));
  const vcpus = sum(host.vms.map((vm) => vm.cpus));
  const freeBytes = host.storageFreeBytes - sum(pending.map((vm) => vm.diskBytes));
  const room: Room = { host, freeMiB, vcpus, tenantVms: host.vms.filter((vm) => vm.tenantId === request.tenantId).length, problems: [] };
  if (host.state === 'down') room.problems.push('down');
  if (host.state === 'maintenance') room.problems.push('in maintenance');
  if (room.problems.length > 0) return room;
  const needMiB = chargeMiB(request.memoryMiB);
  if (needMiB > freeMiB) room.problems.push(`${Math.max(0, freeMiB)} MiB free, VM needs ${needMiB} (${request.memoryMiB} MiB RAM and its process)`);
  const limit = host.cores * ratio;
  if (vcpus + request.cpus > limit) room.problems.push(`${vcpus} of ${limit} vCPUs committed (${host.cores} cores x ${ratio}), VM needs ${request.cpus}`);
  if (request.diskBytes > freeBytes) room.problems.push(`${formatBytes(Math.max(0, freeBytes))} of storage free, VM's disks need ${formatBytes(request.diskBytes)}`);
  return room;
}

/** Most free memory, then fewest vCPUs committed, then fewest VMs of the tenant, then name. */
function better(a: Room, b: Room): number {
  return b.freeMiB - a.freeMiB || a.vcpus - b.vcpus || a.tenantVms - b.tenantVms || compareNames(a.host, b.host);
}

function compareNames(a: PlacementHost, b: PlacementHost): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${Number(gib.toFixed(1))} GiB` : `${Number((bytes / 2 ** 20).toFixed(1))} MiB`;
}
