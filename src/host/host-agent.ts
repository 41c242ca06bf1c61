// The host agent: the VMs of this server, each in its own `vireo run` process. It keeps their
// definitions in DIR, starts and stops them, charges them against the memory budget, restarts
// crashed autostart VMs with backoff, and on its own start picks up what it left running.

import { randomUUID } from 'node:crypto';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { AgentCpu, defaultCpuCapacity } from './agent-cpu.js';
import { AgentStorage } from './agent-storage.js';
import { AgentIo } from './agent-io.js';
import { AgentNetworks } from './agent-networks.js';
import { DefinitionStore, NEW_RUNTIME } from './definition-store.js';
import { HostError } from './host-error.js';
import { chargeMiB, defaultBudgetMiB } from './memory-budget.js';
import { isProcessOf, residentBytes } from './process-info.js';
import { ACTIVE_STATES, VmInstance, type StopOptions } from './vm-instance.js';
import { runArguments, spawnVireoRun, type SpawnVm } from './vm-process.js';
import type { VmStatus } from '../vm/api/vm-controller.js';
import type { IoBudget } from './io-allocator.js';
import { checkDefineRequest, networkOf, VM_DEFINITION_VERSION, type DiskSpec, type VmDefinition } from './vm-definition.js';

export interface HostAgentOptions {
  dataDir: string;
  /** MiB the VMs may be charged in all (default: physical RAM less a reserve). */
  memoryBudgetMiB?: number;
  /** Bytes the thin disks of DIR/luns may take (default: the data directory's free space when first made). */
  storageCapacityBytes?: number;
  spawn?: SpawnVm;
  log?: (line: string) => void;
  /** First delay before restarting a crashed autostart VM; doubles per crash, up to 60 s. */
  restartBaseMs?: number;
  /** CPU the VMs may use together, 100 per core (default: every core). */
  cpuCapacityPercent?: number;
  /** How often the CPU slices are decided again (default 500 ms). */
  cpuPeriodMs?: number;
  /** Reads a VM process's CPU seconds (default: from /proc); null means ask the VM over its API. */
  readCpuSeconds?: (pid: number) => Promise<number | null>;
  /** Operations and bytes per second all VMs' disks may do together (default: no budget). */
  diskBudget?: IoBudget;
}

/** A graceful stop waits this long for the VM to end by itself. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/** A VM that ran this long before crashing starts its backoff afresh. */
const STABLE_RUN_MS = 60_000;
const MAX_BACKOFF_MS = 60_000;

export class HostAgent {
  readonly instances = new Map<string, VmInstance>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** When each VM was last started, and how many times in a row it crashed soon after. */
  private readonly lastStart = new Map<string, number>();
  private readonly crashStreak = new Map<string, number>();
  private closing = false;
  readonly cpu: AgentCpu;
  readonly io: AgentIo;
  readonly networks: AgentNetworks;

  private constructor(
    readonly store: DefinitionStore,
    readonly storage: AgentStorage,
    readonly budgetMiB: number,
    private readonly spawn: SpawnVm,
    readonly log: (line: string) => void,
    private readonly restartBaseMs: number,
    options: HostAgentOptions,
  ) {
    const running = (): VmInstance[] => [...this.instances.values()].filter((vm) => vm.process !== null);
    this.cpu = new AgentCpu(options.cpuCapacityPercent ?? defaultCpuCapacity(), running, log, options.cpuPeriodMs, options.readCpuSeconds);
    this.io = new AgentIo(options.diskBudget ?? {}, running, log);
    this.networks = new AgentNetworks(join(options.dataDir, 'networks'), log);
  }

  /** Reads DIR (reporting and skipping what is corrupt), stops leftover VM processes, and starts the autostart VMs that were running. */
  static async open(options: HostAgentOptions): Promise<HostAgent> {
    const store = new DefinitionStore(options.dataDir);
    const log = options.log ?? ((line: string) => process.stderr.write(`vireo host: ${line}\n`));
    const { vms, problems } = await store.load();
    for (const problem of problems) log(`skipped ${problem.path}: ${problem.message}`);
    // The storage asks which definitions use its volumes: those of the agent made next.
    let agent: HostAgent | undefined;
    const storage = await AgentStorage.open({
      dataDir: options.dataDir, log,
      ...(options.storageCapacityBytes === undefined ? {} : { capacityBytes: options.storageCapacityBytes }),
      definitions: () => (agent === undefined ? [] : [...agent.instances.values()].map((vm) => vm.definition)),
    });
    agent = new HostAgent(store, storage, options.memoryBudgetMiB ?? defaultBudgetMiB(), options.spawn ?? spawnVireoRun, log, options.restartBaseMs ?? 1000, options);
    for (const { definition, runtime } of vms) agent.instances.set(definition.name, agent.instance(definition, runtime));
    for (const vm of agent.instances.values()) await agent.reapLeftover(vm);
    for (const vm of agent.instances.values()) {
      const network = networkOf(vm.definition.spec);
      if (network !== null) await agent.networks.ensure(network).catch((e: Error) => log(e.message));
    }
    agent.cpu.start();
    for (const vm of agent.instances.values()) {
      if (vm.definition.autostart && vm.runtime.wantRunning) await agent.start(vm.name).catch((e: Error) => log(`vm ${vm.name}: autostart failed: ${e.message}`));
    }
    return agent;
  }

  get(name: string): VmInstance {
    const vm = this.instances.get(name);
    if (vm === undefined) throw new HostError('not-found', `no VM named ${name} on this host; 'vireo host vm list' shows them`, { vm: name });
    return vm;
  }

  async define(body: unknown): Promise<VmInstance> {
    const request = checkDefineRequest(body);
    if (this.instances.has(request.name)) throw new HostError('exists', `a VM named ${request.name} already exists`, { vm: request.name });
    const { spec } = request;
    const definition: VmDefinition = {
      version: VM_DEFINITION_VERSION,
      name: request.name,
      uuid: randomUUID(),
      generation: 1,
      autostart: request.autostart === true,
      spec: {
        ramMiB: spec.ramMiB,
        boot: spec.boot,
        disks: [],
        network: spec.network ?? 'none',
        ...(spec.cpus !== undefined ? { cpus: spec.cpus } : {}),
        console: spec.console ?? 'ttyS0',
        cpu: { weight: spec.cpu?.weight ?? 100, capPercent: spec.cpu?.capPercent ?? null },
        jit: spec.jit ?? 'on',
      },
    };
    // The name is claimed first, so two requests for one name cannot both make disks.
    const vm = this.adopt(definition);
    try {
      const network = networkOf(definition.spec);
      if (network !== null) await this.networks.ensure(network);
      definition.spec.disks = await this.storage.provision(definition.name, spec.disks ?? []);
      try {
        await this.store.create(definition);
      } catch (e) {
        await this.storage.remove(definition.spec.disks);
        throw e;
      }
    } catch (e) {
      this.instances.delete(definition.name);
      throw e;
    } finally {
      // The definition names its volumes now (or is gone): they need holding no longer.
      this.storage.release(definition.name);
    }
    this.log(`vm ${definition.name}: defined`);
    return vm;
  }

  /** Registers a VM that is not yet stored (one arriving by migration). */
  adopt(definition: VmDefinition): VmInstance {
    const vm = this.instance(definition, { ...NEW_RUNTIME });
    this.instances.set(definition.name, vm);
    return vm;
  }

  /** Writes a changed definition (its generation goes up). */
  async saveDefinition(vm: VmInstance, definition: VmDefinition): Promise<void> {
    const next = { ...definition, generation: vm.definition.generation + 1 };
    await this.store.save(next);
    vm.definition = next;
  }

  /**
   * Takes the disk paths a running VM reports (after a snapshot it writes on in overlays over
   * the images the snapshot owns) into its definition, so a later cold start uses them.
   */
  async followDisks(vm: VmInstance, status: VmStatus): Promise<void> {
    const described = (status.config as { disks?: Array<{ path?: unknown; format?: unknown }> } | null)?.disks;
    const disks = vm.definition.spec.disks;
    if (!Array.isArray(described) || described.length !== disks.length) return;
    const next = disks.map((disk, i): DiskSpec => {
      const { path, format } = described[i]!;
      if (typeof path !== 'string' || path === disk.path) return disk;
      return { ...disk, path, ...(format === 'raw' || format === 'qcow2' ? { format } : {}) };
    });
    if (next.every((disk, i) => disk === disks[i])) return;
    await this.saveDefinition(vm, { ...vm.definition, spec: { ...vm.definition.spec, disks: next } });
    this.log(`vm ${vm.name}: its disks are now ${next.map((d) => d.path).join(', ')}`);
  }

  async remove(name: string, options: { disks: boolean }): Promise<void> {
    const vm = this.get(name);
    if (ACTIVE_STATES.includes(vm.state)) throw new HostError('invalid-state', `cannot delete VM ${name}: it is ${vm.state}; stop it first`, { vm: name });
    this.cancelRestart(name);
    if (options.disks) await this.storage.remove(vm.definition.spec.disks);
    await this.store.remove(name, { data: options.disks });
    this.instances.delete(name);
    this.log(`vm ${name}: deleted${options.disks ? ' with its disks' : ''}`);
    const network = networkOf(vm.definition.spec);
    if (network !== null && ![...this.instances.values()].some((other) => networkOf(other.definition.spec) === network)) {
      await this.networks.drop(network);
      this.log(`network ${network}: no VM is defined on it any more; its switch is gone`);
    }
  }

  async start(name: string): Promise<VmInstance> {
    const vm = this.get(name);
    this.cancelRestart(name);
    this.checkBudget(vm);
    this.lastStart.set(name, Date.now());
    const network = networkOf(vm.definition.spec);
    const switchPath = network === null ? undefined : (await this.networks.ensure(network)).path;
    await vm.start(runArguments(vm.definition, vm.apiPath, switchPath));
    await this.applyCpu(vm);
    await this.io.rebalance();
    return vm;
  }

  async stop(name: string, options: StopOptions): Promise<VmInstance> {
    const vm = this.get(name);
    this.cancelRestart(name);
    if (!ACTIVE_STATES.includes(vm.state) && vm.runtime.wantRunning) {
      // A crashed VM waiting for its restart: stopping it means it stays down.
      vm.runtime = { ...vm.runtime, wantRunning: false };
      await this.store.saveRuntime(name, vm.runtime);
      return vm;
    }
    await vm.stop(options);
    return vm;
  }

  /** Refuses a start that would take the VMs past the memory budget. */
  checkBudget(vm: VmInstance): void {
    const charged = this.chargedMiB();
    const wanted = chargeMiB(vm.definition.spec.ramMiB);
    if (charged + wanted > this.budgetMiB) {
      throw new HostError('over-budget', `cannot start VM ${vm.name}: it needs ${wanted} MiB (${vm.definition.spec.ramMiB} MiB RAM and its process), and ${charged} of the ${this.budgetMiB} MiB budget are taken; stop a VM or raise --memory-budget`, { vm: vm.name });
    }
  }

  chargedMiB(): number {
    let sum = 0;
    for (const vm of this.instances.values()) if (ACTIVE_STATES.includes(vm.state)) sum += chargeMiB(vm.definition.spec.ramMiB);
    return sum;
  }

  /** Puts the VMs' CPU slices in force again now (weight and cap from the definitions); says what happened. */
  async applyCpu(vm: VmInstance): Promise<{ weight: string; capPercent: string }> {
    if (vm.process === null) return { weight: 'stored', capPercent: 'stored' };
    try {
      await this.cpu.rebalance();
      const effective = this.cpu.report(vm).effectiveCapPercent;
      return { weight: 'applied', capPercent: `applied: effective cap ${effective === null ? 'none' : `${effective}%`}` };
    } catch (e) {
      this.log(`vm ${vm.name}: CPU slices not applied: ${(e as Error).message}`);
      return { weight: `not applied: ${(e as Error).message}`, capPercent: `not applied: ${(e as Error).message}` };
    }
  }

  async hostInfo(): Promise<Record<string, unknown>> {
    const byState: Record<string, number> = {};
    let rssBytes = 0;
    for (const vm of this.instances.values()) {
      byState[vm.state] = (byState[vm.state] ?? 0) + 1;
      if (vm.process !== null) rssBytes += (await residentBytes(vm.process.pid)) ?? 0;
    }
    return {
      cores: cpus().length,
      memory: { totalBytes: totalmem(), freeBytes: freemem(), budgetMiB: this.budgetMiB, chargedMiB: this.chargedMiB(), vmRssBytes: rssBytes },
      storage: this.storage.usage(),
      vms: { total: this.instances.size, byState },
      cpu: { capacityPercent: this.cpu.capacityPercent },
      diskBudget: { iops: this.io.budget.iops ?? null, bps: this.io.budget.bps ?? null },
      networks: await this.networks.list(),
    };
  }

  /** Stops every VM gracefully (they start again with the agent if autostart) and stops restarting. */
  async shutdown(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    this.closing = true;
    for (const name of [...this.restartTimers.keys()]) this.cancelRestart(name);
    await this.cpu.stop();
    await Promise.all([...this.instances.values()].filter((vm) => vm.process !== null).map((vm) => vm.stop({ force: false, timeoutMs, keepWanted: true }).catch(() => {})));
    await this.networks.close();
  }

  private instance(definition: VmDefinition, runtime: VmInstance['runtime']): VmInstance {
    return new VmInstance(definition, runtime, this.store.vmDir(definition.name), {
      spawn: this.spawn,
      persist: (name, record) => (this.instances.has(name) ? this.store.saveRuntime(name, record) : Promise.resolve()),
      exited: (vm, crashed) => this.exited(vm, crashed),
      log: this.log,
    });
  }

  private exited(vm: VmInstance, crashed: boolean): void {
    // What the VM had goes to the others at once.
    if (!this.closing) {
      this.cpu.rebalance().catch((e: Error) => this.log(`CPU slices: ${e.message}`));
      this.io.rebalance().catch((e: Error) => this.log(`disk budget: ${e.message}`));
    }
    // wantRunning: a stop may have come while the crash was being recorded.
    if (!crashed || this.closing || !vm.definition.autostart || !vm.runtime.wantRunning || this.instances.get(vm.name) !== vm) return;
    const ranMs = vm.runtime.lastExit === null ? 0 : Date.parse(vm.runtime.lastExit.at) - (this.lastStart.get(vm.name) ?? 0);
    const streak = ranMs >= STABLE_RUN_MS ? 0 : (this.crashStreak.get(vm.name) ?? 0) + 1;
    this.crashStreak.set(vm.name, streak);
    const delay = Math.min(MAX_BACKOFF_MS, this.restartBaseMs * 2 ** Math.max(0, streak - 1));
    this.log(`vm ${vm.name}: restarting in ${delay} ms (autostart)`);
    this.restartTimers.set(vm.name, setTimeout(() => {
      this.restartTimers.delete(vm.name);
      vm.runtime = { ...vm.runtime, restarts: vm.runtime.restarts + 1 };
      this.start(vm.name).catch((e: Error) => this.log(`vm ${vm.name}: restart failed: ${e.message}`));
    }, delay));
  }

  private cancelRestart(name: string): void {
    const timer = this.restartTimers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.restartTimers.delete(name);
  }

  /**
   * A VM process left by an agent that died: its console went with that agent, so it is stopped
   * (through its API, else killed) and, if autostart, started again with a console.
   */
  private async reapLeftover(vm: VmInstance): Promise<void> {
    const pid = vm.runtime.pid;
    if (pid === null || !(await isProcessOf(pid, vm.apiPath))) return;
    this.log(`vm ${vm.name}: stopping the process ${pid} left by the previous agent`);
    await vm.client(5000).call('POST', '/vm/stop').catch(() => {});
    for (let i = 0; i < 50 && (await isProcessOf(pid, vm.apiPath)); i++) await new Promise((r) => setTimeout(r, 100));
    if (await isProcessOf(pid, vm.apiPath)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    vm.runtime = { ...vm.runtime, pid: null };
    await this.store.saveRuntime(vm.name, vm.runtime);
  }
}
