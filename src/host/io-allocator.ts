// Host-side division of a host-wide disk budget (operations and bytes per second) between the
// VMs' disks: by VM weight first, then evenly between one VM's disks, water-filled so that a
// disk that wants less leaves the rest to others, never above a disk's own limits. Pure: the
// caller applies the results (PUT /vm/disks/{serial}/limits).

import type { IoLimits } from '../storage/qos/io-limits.js';
import { AllocationError } from './allocation-error.js';
import { DEFAULT_CPU_WEIGHT, MAX_CPU_WEIGHT } from './cpu-scheduler.js';
import { fillWithSpare, type SpareClaim } from './water-fill.js';

/** The host's total for all VMs' disks; absent or 0: that dimension is not shared out. */
export interface IoBudget {
  iops?: number;
  bps?: number;
}

/** What a disk did lately, per second (from GET /vm/stats deltas). */
export interface IoDemand {
  iops: number;
  bps: number;
}

export interface DiskClaim {
  serial: string;
  /** The disk's own limits (from its description); they always hold. */
  limits: IoLimits;
  /** Absent: the disk may want as much as it can have. */
  demand?: IoDemand;
}

export interface IoClaim {
  id: string;
  /** 1..10000 (default 100). */
  weight?: number;
  disks: readonly DiskClaim[];
}

export interface DiskAllocation {
  vm: string;
  serial: string;
  /** The limits to put in force: the disk's own, with iops and bps set to its share. */
  limits: IoLimits;
}

/** Floors, so a disk held to almost nothing still moves (0 would mean unlimited to IoThrottle). */
export const MIN_IOPS = 10;
export const MIN_BPS = 64 * 1024;

type Dimension = 'iops' | 'bps';

export class IoAllocator {
  constructor(readonly budget: IoBudget) {
    for (const d of ['iops', 'bps'] as const) {
      const v = budget[d];
      if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new AllocationError('bad-capacity', `host ${d} budget ${v} must be a finite number >= 0 (0: not shared out)`, d);
    }
  }

  allocate(claims: readonly IoClaim[]): DiskAllocation[] {
    for (const claim of claims) checkClaim(claim);
    const shares = new Map<Dimension, number[][]>();
    for (const d of ['iops', 'bps'] as const) {
      const budget = this.budget[d] ?? 0;
      if (budget > 0) shares.set(d, divide(budget, claims, d));
    }
    return claims.flatMap((claim, v) => claim.disks.map((disk, k) => {
      const limits: IoLimits = { ...disk.limits };
      for (const [d, byVm] of shares) limits[d] = Math.max(d === 'iops' ? MIN_IOPS : MIN_BPS, Math.floor(byVm[v]![k]!));
      return { vm: claim.id, serial: disk.serial, limits };
    }));
  }
}

/** Each disk's share of `budget` in dimension `d`, by VM then by disk. */
function divide(budget: number, claims: readonly IoClaim[], d: Dimension): number[][] {
  const disks = claims.map((claim) => claim.disks.map((disk): SpareClaim => {
    const own = disk.limits[d] ?? 0;
    const limit = own > 0 ? own : Infinity;
    return { weight: 1, want: Math.min(disk.demand?.[d] ?? Infinity, limit), limit };
  }));
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  const perVm = fillWithSpare(budget, claims.map((claim, v) => ({
    weight: claim.weight ?? DEFAULT_CPU_WEIGHT,
    want: sum(disks[v]!.map((k) => k.want)),
    limit: sum(disks[v]!.map((k) => k.limit)),
  })));
  return disks.map((vmDisks, v) => fillWithSpare(perVm[v]!, vmDisks));
}

function checkClaim(claim: IoClaim): void {
  const weight = claim.weight ?? DEFAULT_CPU_WEIGHT;
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_CPU_WEIGHT) {
    throw new AllocationError('bad-claim', `VM ${claim.id}: weight ${weight} must be a whole number from 1 to ${MAX_CPU_WEIGHT}`, `${claim.id}.weight`);
  }
  for (const disk of claim.disks) {
    for (const d of ['iops', 'bps'] as const) {
      const own = disk.limits[d];
      const wanted = disk.demand?.[d];
      if ((own !== undefined && !(own >= 0 && Number.isFinite(own))) || (wanted !== undefined && !(wanted >= 0))) {
        throw new AllocationError('bad-claim', `VM ${claim.id} disk ${disk.serial}: ${d} limit and demand must be numbers >= 0`, `${claim.id}.${disk.serial}.${d}`);
      }
    }
  }
}
