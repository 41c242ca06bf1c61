// Every period: read each VM's CPU use, estimate what it wants, let the CpuScheduler decide the
// caps, and push the ones that changed (the host agent sends them to PUT /vm/cpu).

import { CpuScheduler, type CpuClaim } from './cpu-scheduler.js';

export interface SliceVm {
  id: string;
  weight?: number;
  /** The user's cap, or null. */
  capPercent: number | null;
  vcpus: number;
}

export interface CpuSliceControllerOptions {
  scheduler: CpuScheduler;
  /** Default 500 ms. */
  periodMs?: number;
  /** The VMs to schedule now. */
  vms(): readonly SliceVm[];
  /** The VM's CPU use over the last second, percent of one core (GET /vm/cpu's usedPercent). */
  measure(id: string): Promise<number>;
  /** Puts a cap in force (PUT /vm/cpu). */
  apply(id: string, capPercent: number | null): Promise<void>;
  /** A measure or apply that failed; the VM is tried again next period. */
  onError?(id: string, error: unknown): void;
}

/** A VM using this much of its cap is taken to want more than it has. */
const SATURATED = 0.85;
/** Room above an unsaturated VM's use, so a growing load is seen before it hits the cap. */
const HEADROOM_FACTOR = 1.2;
const HEADROOM_POINTS = 3;
/** Changes smaller than this are not pushed (percent points): the measurement is noisier. */
const HYSTERESIS = 1;

/** What a VM wants, judged from its use under the cap in force. */
export function estimateDemand(usedPercent: number, capInForce: number | null, vcpus: number): number {
  const ceiling = capInForce ?? vcpus * 100;
  if (usedPercent >= ceiling * SATURATED) return Infinity;
  return usedPercent * HEADROOM_FACTOR + HEADROOM_POINTS;
}

export class CpuSliceController {
  private readonly periodMs: number;
  /** The cap each VM has in force, as last applied (absent: only its user's cap). */
  private readonly inForce = new Map<string, number | null>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;

  constructor(private readonly options: CpuSliceControllerOptions) {
    this.periodMs = options.periodMs ?? 500;
  }

  /** The caps last applied, by VM. */
  get caps(): ReadonlyMap<string, number | null> {
    return this.inForce;
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      // A slow VM API must not stack periods up.
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    }, this.periodMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /** Runs a period now, after the one under way (the VMs or their weights changed). */
  async now(): Promise<void> {
    while (this.ticking !== null) await this.ticking;
    this.ticking = this.tick().finally(() => (this.ticking = null));
    await this.ticking;
  }

  /** One period: measure, decide, push what changed. */
  async tick(): Promise<void> {
    const vms = this.options.vms();
    for (const id of [...this.inForce.keys()]) if (!vms.some((vm) => vm.id === id)) this.inForce.delete(id);
    const used = await Promise.all(vms.map(async (vm) => {
      try {
        return await this.options.measure(vm.id);
      } catch (e) {
        this.options.onError?.(vm.id, e);
        return null;
      }
    }));
    const claims: CpuClaim[] = vms.map((vm, i) => {
      const capInForce = this.inForce.has(vm.id) ? this.inForce.get(vm.id)! : vm.capPercent;
      // A VM that cannot be measured is not running its guest: it wants nothing this period.
      const demand = used[i] === null ? 0 : estimateDemand(used[i]!, capInForce, vm.vcpus);
      return { id: vm.id, capPercent: vm.capPercent, vcpus: vm.vcpus, demandPercent: demand, ...(vm.weight !== undefined ? { weight: vm.weight } : {}) };
    });
    const decisions = this.options.scheduler.decide(claims);
    await Promise.all(decisions.map(async ({ id, capPercent }) => {
      if (!this.changed(id, capPercent)) return;
      try {
        await this.options.apply(id, capPercent);
        this.inForce.set(id, capPercent);
      } catch (e) {
        this.options.onError?.(id, e);
      }
    }));
  }

  private changed(id: string, cap: number | null): boolean {
    if (!this.inForce.has(id)) return true;
    const old = this.inForce.get(id)!;
    if (old === null || cap === null) return old !== cap;
    return Math.abs(old - cap) >= HYSTERESIS;
  }
}
