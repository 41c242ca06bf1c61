// CPU time slices in the agent: one CpuSliceController over the running VMs, measuring each
// process from /proc (through its API, GET /vm/cpu, where /proc cannot tell) and putting the
// effective caps in force (PUT /vm/cpu). It is
// the only CPU lever: VM processes keep the agent's nice value, because a lower priority for a
// light VM would hold it below its slice whenever other host processes compete, and the
// controller would then read it as wanting less and hand its time to the others.

import { cpus } from 'node:os';
import { CpuScheduler } from './cpu-scheduler.js';
import { CpuSliceController, type SliceVm } from './cpu-slice-controller.js';
import type { CpuStatus } from '../vm/api/vm-resources.js';
import { vcpusOf } from './vm-definition.js';
import { processKey, type VmInstance } from './vm-instance.js';
import { ProcessCpuMeter } from './process-cpu-meter.js';

export interface VmCpuReport {
  weight: number;
  /** The user's cap (the definition's). */
  capPercent: number | null;
  /** The cap the controller has in force, null when none. */
  effectiveCapPercent: number | null;
  /** What the VM process used over the last second, percent of one host core, as last measured. */
  usedPercent: number | null;
}

/** Default capacity: every core of the host, 100 each. */
export function defaultCpuCapacity(): number {
  return cpus().length * 100;
}

export class AgentCpu {
  private readonly controller: CpuSliceController;
  private readonly used = new Map<string, number>();
  private readonly failing = new Set<string>();
  private readonly meter: ProcessCpuMeter;

  constructor(readonly capacityPercent: number, private readonly running: () => readonly VmInstance[], log: (line: string) => void, periodMs?: number, readCpuSeconds?: (pid: number) => Promise<number | null>) {
    this.meter = new ProcessCpuMeter(readCpuSeconds);
    this.controller = new CpuSliceController({
      scheduler: new CpuScheduler(capacityPercent, { hostPercent: defaultCpuCapacity() }),
      ...(periodMs !== undefined ? { periodMs } : {}),
      vms: () => this.running().filter((vm) => vm.state === 'running' || vm.state === 'paused').map(sliceOf),
      measure: async (id) => {
        const vm = this.byId(id);
        const pid = vm.process?.pid;
        const fromProc = pid === undefined ? null : await this.meter.usedPercent(id, pid);
        const used = fromProc ?? (await vm.callVm<CpuStatus>('GET', '/vm/cpu')).usedPercent;
        this.used.set(id, used);
        this.failing.delete(id);
        return used;
      },
      apply: async (id, capPercent) => {
        await this.byId(id).callVm('PUT', '/vm/cpu', { capPercent });
      },
      onError: (id, e) => {
        // Once per VM process: a VM going down fails every period until it is gone.
        if (!this.failing.has(id) && this.running().some((vm) => processKey(vm) === id && vm.state === 'running')) log(`vm ${id}: CPU slice: ${(e as Error).message}`);
        this.failing.add(id);
      },
    });
  }

  start(): void {
    this.controller.start();
  }

  async stop(): Promise<void> {
    await this.controller.stop();
  }

  /** Decides and applies the slices now (a VM started or stopped, a weight or cap changed). */
  async rebalance(): Promise<void> {
    await this.controller.now();
    const live = new Set(this.running().map(processKey));
    for (const id of [...this.used.keys()]) if (!live.has(id)) this.used.delete(id);
    this.meter.retain(live);
  }

  report(vm: VmInstance): VmCpuReport {
    const { weight, capPercent } = vm.definition.spec.cpu;
    const id = vm.process === null ? null : processKey(vm);
    const inForce = id !== null && this.controller.caps.has(id) ? this.controller.caps.get(id)! : capPercent;
    return { weight, capPercent, effectiveCapPercent: id === null ? null : inForce, usedPercent: id === null ? null : this.used.get(id) ?? null };
  }

  private byId(id: string): VmInstance {
    const vm = this.running().find((v) => processKey(v) === id);
    if (vm === undefined) throw new Error('the VM process has ended');
    return vm;
  }
}


function sliceOf(vm: VmInstance): SliceVm {
  const { weight, capPercent } = vm.definition.spec.cpu;
  return { id: processKey(vm), weight, capPercent, vcpus: vcpusOf(vm.definition.spec) };
}
