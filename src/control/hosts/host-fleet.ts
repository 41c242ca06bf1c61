// The master's hosts at run time: a client per registered agent and the heartbeat monitor that
// watches them, whose findings it writes to the store (state and reason, resources, last
// heartbeat; the VMs of a down host 'unknown', never deleted; reconciled states once it is back)
// and publishes as events.

import type { EventBus } from '../api/event-bus.js';
import { open } from '../security/secret-box.js';
import { appendAudit } from '../store/audit-log.js';
import type { Host } from '../store/hosts.js';
import type { Store } from '../store/open-store.js';
import { allPages } from '../store/page.js';
import { repositories } from '../store/repositories.js';
import type { VmState } from '../store/tables.js';
import type { VirtualMachine } from '../store/virtual-machines.js';
import type { AgentHostInfo } from './agent-api-types.js';
import { HeartbeatMonitor, type HeartbeatOptions, type HeartbeatSink, type HostStatus } from './heartbeat-monitor.js';
import { HostAgentClient } from './host-agent-client.js';
import { vmSpecOf } from './master-vm-spec.js';
import type { MasterVm, Reconciliation } from './reconcile.js';

export interface FleetServices {
  readonly store: Store;
  readonly key: Buffer;
  readonly events: EventBus;
}

export interface HostFleetOptions {
  heartbeat?: HeartbeatOptions;
  /** Each request to an agent, besides what starts and stops wait for (default 10 s). */
  agentTimeoutMs?: number;
  /** VMs an operation of the master is driving: their states are the operation's to record. */
  isBusy?: (vmId: string) => boolean;
}

/** Where a host's sealed bearer token belongs, so it opens in no other row. */
export function hostTokenAssociatedData(hostId: string): string {
  return `hosts.token:${hostId}`;
}

const ACTOR = 'vireo master';

/** Records a VM's state as found (with `from`, only while it is still in that state) and publishes it. */
export async function recordVmState(master: Pick<FleetServices, 'store' | 'events'>, vmId: string, to: VmState, reason: string, from?: VmState): Promise<VirtualMachine | undefined> {
  const vm = await repositories(master.store.db).virtualMachines.setState(vmId, to, reason, from);
  if (vm !== undefined) {
    master.events.publish({
      type: 'vm.state', resource: 'vm', id: vm.id, scope: { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id },
      data: { state: vm.state, reason: vm.state_reason, hostId: vm.host_id },
    });
  }
  return vm;
}

export class HostFleet implements HeartbeatSink {
  private readonly monitor: HeartbeatMonitor;
  private readonly clients = new Map<string, HostAgentClient>();
  private readonly dataCenters = new Map<string, string>();
  private readonly isBusy: (vmId: string) => boolean;

  constructor(private readonly master: FleetServices, private readonly options: HostFleetOptions = {}) {
    this.isBusy = options.isBusy ?? (() => false);
    this.monitor = new HeartbeatMonitor(this, { vmsOnHost: (id) => this.vmsOnHost(id) }, options.heartbeat);
  }

  /** Watches every registered host. */
  async start(): Promise<void> {
    const repos = repositories(this.master.store.db);
    for (const host of await allPages((page) => repos.hosts.list({}, page))) {
      try {
        this.watch(host);
      } catch (e) {
        // A token that no longer opens (another master's key, an altered row): shown, not fatal.
        const reason = `cannot watch it: ${(e as Error).message}; register it again`;
        if (await repos.hosts.observeState(host.id, 'down', reason)) {
          this.master.events.publish({ type: 'host.down', resource: 'host', id: host.id, scope: { dataCenterId: host.data_center_id }, data: { state: 'down', reason } });
        }
      }
    }
  }

  stop(): void {
    this.monitor.stop();
  }

  /** Starts watching a host (just registered, or at start). */
  watch(host: Host): void {
    const client = this.newClient(host);
    this.clients.set(host.id, client);
    this.dataCenters.set(host.id, host.data_center_id);
    this.monitor.add({ id: host.id, client, state: host.state });
  }

  unwatch(hostId: string): void {
    this.monitor.remove(hostId);
    this.clients.delete(hostId);
    this.dataCenters.delete(hostId);
  }

  setMaintenance(hostId: string, on: boolean): void {
    if (this.clients.has(hostId)) this.monitor.setMaintenance(hostId, on);
  }

  status(hostId: string): HostStatus | undefined {
    return this.monitor.status(hostId);
  }

  /** The client of a registered host's agent. */
  client(host: Host): HostAgentClient {
    return this.clients.get(host.id) ?? this.newClient(host);
  }

  async onHostReport(hostId: string, report: AgentHostInfo): Promise<void> {
    const at = new Date().toISOString();
    await repositories(this.master.store.db).hosts.observe(hostId, {
      cpus: report.cores, memory_mib: report.memory.budgetMiB, storage_bytes: report.storage.capacityBytes,
      last_report: JSON.stringify(report), last_heartbeat_at: at,
    });
    this.publish('host.heartbeat', hostId, { cores: report.cores, memory: report.memory, storage: report.storage, vms: report.vms });
  }

  async onHostDown(hostId: string, reason: string): Promise<void> {
    await this.recordState(hostId, 'down', reason);
  }

  async onHostUp(hostId: string): Promise<void> {
    await this.recordState(hostId, 'up', 'answers its heartbeat');
  }

  async onVmsReconciled(_hostId: string, result: Reconciliation): Promise<void> {
    for (const change of result.changes) {
      // A start or stop under way records its own outcome; a down host overrides it.
      if (change.to !== 'unknown' && this.isBusy(change.vmId)) continue;
      await recordVmState(this.master, change.vmId, change.to, change.reason, change.from);
    }
  }

  private async recordState(hostId: string, state: 'up' | 'down', reason: string): Promise<void> {
    const changed = await this.master.store.transaction(async (tx) => {
      if (!(await repositories(tx).hosts.observeState(hostId, state, reason))) return false;
      await appendAudit(tx, { actor_id: null, actor_name: ACTOR, action: `host.${state}`, target: `host:${hostId}`, outcome: 'success', source_ip: 'local', detail: { reason } });
      return true;
    });
    if (changed) this.publish(`host.${state}`, hostId, { state, reason });
  }

  private async vmsOnHost(hostId: string): Promise<MasterVm[]> {
    const repos = repositories(this.master.store.db);
    const vms = await allPages((page) => repos.virtualMachines.list({ host_id: hostId }, page));
    return vms.map((vm) => ({ id: vm.id, name: vmSpecOf(vm).agentName, state: vm.state }));
  }

  private publish(type: string, hostId: string, data: Record<string, unknown>): void {
    const dataCenterId = this.dataCenters.get(hostId);
    this.master.events.publish({ type, resource: 'host', id: hostId, scope: dataCenterId === undefined ? {} : { dataCenterId }, data });
  }

  private newClient(host: Host): HostAgentClient {
    const token = open(this.master.key, host.token_sealed, hostTokenAssociatedData(host.id)).toString('utf8');
    return new HostAgentClient({ address: host.url, token, ...(this.options.agentTimeoutMs === undefined ? {} : { timeoutMs: this.options.agentTimeoutMs }) });
  }
}
