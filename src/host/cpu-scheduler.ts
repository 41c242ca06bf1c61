// Host-side CPU time division between VM processes: each VM's effective cap (percent of one
// host core) so that, when VMs want more than the host has, time divides by weight; a VM that
// wants less leaves the rest to the others; a user's cap always holds and no VM gets more than
// its harts can use. Pure: the caller measures demand and applies the caps (CpuSliceController).

import { AllocationError } from './allocation-error.js';
import { fillWithSpare } from './water-fill.js';

export const DEFAULT_CPU_WEIGHT = 100;
export const MAX_CPU_WEIGHT = 10_000;
/** The smallest cap a VM process applies (Machine.cpuThrottle holds a hart back 95% at most). */
export const MIN_CAP_PERCENT = 5;

export interface CpuClaim {
  id: string;
  /** 1..10000 (default 100): the VM's share under contention, relative to the others. */
  weight?: number;
  /** The user's cap, percent of one host core (5..100*vcpus), or null for none. */
  capPercent: number | null;
  vcpus: number;
  /** The CPU the VM wants now, percent of one core; Infinity: as much as it can get. */
  demandPercent: number;
}

export interface CpuDecision {
  id: string;
  /** The cap to put in force (PUT /vm/cpu); null when the VM may use all its harts. */
  capPercent: number | null;
  /** The CPU this decision gives the VM, percent of one core (before the 5% floor). */
  sharePercent: number;
}

export interface CpuSchedulerOptions {
  /** The host's cores, 100 each (default: unknown, so VMs are always held to their shares). */
  hostPercent?: number;
}

export class CpuScheduler {
  private readonly hostPercent: number;

  /** `capacityPercent`: what the VMs may use together, 100 per host core given to them. */
  constructor(readonly capacityPercent: number, options: CpuSchedulerOptions = {}) {
    this.hostPercent = options.hostPercent ?? Infinity;
    if (!Number.isFinite(capacityPercent) || capacityPercent <= 0) {
      throw new AllocationError('bad-capacity', `host CPU capacity ${capacityPercent}% must be a positive number (100 per core)`, 'capacityPercent');
    }
  }

  decide(claims: readonly CpuClaim[]): CpuDecision[] {
    const checked = claims.map(checkClaim);
    const shares = fillWithSpare(this.capacityPercent, checked.map((c) => ({ weight: c.weight, want: c.demandPercent, limit: c.limit })));
    // Nothing to divide while what all want fits and the VMs may have every core: then only
    // users' caps hold. A cap in force costs its VM wake-ups (it samples its own use).
    const wanted = checked.reduce((sum, c) => sum + Math.min(c.demandPercent, c.limit), 0);
    const uncontended = this.capacityPercent >= this.hostPercent && wanted <= this.capacityPercent;
    return checked.map((c, i) => {
      const share = shares[i]!;
      // A VM held at nothing could not show that it wants more: the floor lets it be seen.
      const cap = Math.min(c.limit, Math.max(MIN_CAP_PERCENT, round1(share)));
      const free = c.capPercent === null && (uncontended || cap >= c.vcpus * 100);
      return { id: c.id, capPercent: free ? null : cap, sharePercent: round1(share) };
    });
  }
}

function checkClaim(claim: CpuClaim): CpuClaim & { weight: number; limit: number } {
  const bad = (field: string, why: string): never => {
    throw new AllocationError('bad-claim', `VM ${claim.id}: ${field} ${why}`, `${claim.id}.${field}`);
  };
  const weight = claim.weight ?? DEFAULT_CPU_WEIGHT;
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_CPU_WEIGHT) bad('weight', `${weight} must be a whole number from 1 to ${MAX_CPU_WEIGHT}`);
  if (!Number.isInteger(claim.vcpus) || claim.vcpus < 1) bad('vcpus', `${claim.vcpus} must be a positive whole number`);
  const most = claim.vcpus * 100;
  if (claim.capPercent !== null && !(claim.capPercent >= MIN_CAP_PERCENT && claim.capPercent <= most)) {
    bad('capPercent', `${claim.capPercent} must be from ${MIN_CAP_PERCENT} to ${most} (100 per vCPU), or null`);
  }
  if (Number.isNaN(claim.demandPercent) || claim.demandPercent < 0) bad('demandPercent', `${claim.demandPercent} must be >= 0`);
  return { ...claim, weight, limit: Math.min(claim.capPercent ?? Infinity, most) };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
