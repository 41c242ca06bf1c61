// The master's heartbeat on its hosts: each host's GET /host polled on an interval, on a loop
// of its own (a slow host delays no other, and one host never has two polls at once). A host
// that has not answered for `downAfterMs` is down and its VMs unknown; when it answers again it
// is up and its VMs are reconciled. Hosts in maintenance are polled but never marked down.

import type { HostState } from '../store/tables.js';
import type { AgentHostInfo } from './agent-api-types.js';
import { markUnknown, reconcile, type AgentVmView, type MasterVm, type Reconciliation } from './reconcile.js';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3_000;
export const DEFAULT_DOWN_AFTER_MS = 15_000;
export const DEFAULT_RECONCILE_EVERY_MS = 30_000;

/** What the monitor needs of a host's client (HostAgentClient has it); it must end a call when `signal` aborts. */
export interface HeartbeatClient {
  hostInfo(options?: { signal?: AbortSignal }): Promise<AgentHostInfo>;
  listVms(options?: { signal?: AbortSignal }): Promise<readonly AgentVmView[]>;
}

/** The master's records of which VMs it has placed on a host. */
export interface MasterVmSource {
  vmsOnHost(hostId: string): Promise<readonly MasterVm[]> | readonly MasterVm[];
}

/** Where the monitor reports; calls for one host come one at a time, in order. */
export interface HeartbeatSink {
  /** Every answer to a heartbeat. */
  onHostReport(hostId: string, report: AgentHostInfo): void | Promise<void>;
  onHostDown(hostId: string, reason: string): void | Promise<void>;
  onHostUp(hostId: string): void | Promise<void>;
  /** VM states to record (on a down host: all 'unknown') and VMs on the host the master does not know. */
  onVmsReconciled(hostId: string, result: Reconciliation): void | Promise<void>;
}

export interface MonitorTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface HeartbeatOptions {
  intervalMs?: number;
  /** Each request to an agent is abandoned after this long (default 3 s). */
  requestTimeoutMs?: number;
  downAfterMs?: number;
  /** Reconcile an up host's VMs at least this often (default 30 s), besides when it comes up. */
  reconcileEveryMs?: number;
  timers?: MonitorTimers;
  /** Where failures of the sink and of the VM source are told (default: stderr). */
  log?: (line: string) => void;
}

export interface HostRegistration {
  id: string;
  client: HeartbeatClient;
  /** As the master last recorded it (default 'up'); a host added 'down' comes up at its first answer. */
  state?: HostState;
}

export interface HostStatus {
  id: string;
  state: HostState;
  /** The last failure while it does not answer, else ''. */
  reason: string;
  lastAnswerAt: number | null;
  lastReport: AgentHostInfo | null;
}

interface Watched {
  id: string;
  client: HeartbeatClient;
  state: HostState;
  reason: string;
  /** When it last answered, or was added. */
  lastHeardAt: number;
  lastAnswerAt: number | null;
  lastReport: AgentHostInfo | null;
  needsReconcile: boolean;
  lastReconcileAt: number;
  polling: boolean;
  pollStartedAt: number;
  timer: unknown;
  aborts: Set<AbortController>;
  /** The sink's calls for this host, in order. */
  reports: Promise<void>;
}

const REAL_TIMERS: MonitorTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class HeartbeatMonitor {
  private readonly hosts = new Map<string, Watched>();
  private readonly intervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly downAfterMs: number;
  private readonly reconcileEveryMs: number;
  private readonly timers: MonitorTimers;
  private readonly log: (line: string) => void;

  constructor(private readonly sink: HeartbeatSink, private readonly vms: MasterVmSource, options: HeartbeatOptions = {}) {
    this.intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    this.downAfterMs = options.downAfterMs ?? DEFAULT_DOWN_AFTER_MS;
    this.reconcileEveryMs = options.reconcileEveryMs ?? DEFAULT_RECONCILE_EVERY_MS;
    this.timers = options.timers ?? REAL_TIMERS;
    this.log = options.log ?? ((line) => process.stderr.write(`vireo master: ${line}\n`));
  }

  /** Starts polling the host at once. */
  add(host: HostRegistration): void {
    if (this.hosts.has(host.id)) throw new Error(`host ${host.id} is already monitored`);
    const now = this.timers.now();
    const watched: Watched = {
      id: host.id, client: host.client, state: host.state ?? 'up', reason: '', lastHeardAt: now, lastAnswerAt: null, lastReport: null,
      needsReconcile: true, lastReconcileAt: now, polling: false, pollStartedAt: now, timer: undefined, aborts: new Set(), reports: Promise.resolve(),
    };
    this.hosts.set(host.id, watched);
    this.tick(watched);
  }

  /** Stops polling the host; a request under way is abandoned. */
  remove(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (host === undefined) return;
    this.hosts.delete(hostId);
    this.timers.clearTimeout(host.timer);
    for (const controller of host.aborts) controller.abort(new Error('the host is no longer monitored'));
  }

  /** In maintenance a host is still polled and reported but never marked down; out of it, it is up until it fails to answer. */
  setMaintenance(hostId: string, on: boolean): void {
    const host = this.hosts.get(hostId);
    if (host === undefined) throw new Error(`host ${hostId} is not monitored`);
    if (on) {
      host.state = 'maintenance';
    } else if (host.state === 'maintenance') {
      host.state = 'up';
      host.needsReconcile = true;
    }
  }

  status(hostId: string): HostStatus | undefined {
    const host = this.hosts.get(hostId);
    if (host === undefined) return undefined;
    return { id: host.id, state: host.state, reason: host.reason, lastAnswerAt: host.lastAnswerAt, lastReport: host.lastReport };
  }

  stop(): void {
    for (const id of [...this.hosts.keys()]) this.remove(id);
  }

  private tick(host: Watched): void {
    if (this.hosts.get(host.id) !== host) return;
    host.timer = this.timers.setTimeout(() => this.tick(host), this.intervalMs);
    // The poll before has not ended (its client ignores the abort): it counts as not answering.
    if (host.polling) {
      this.failed(host, `no answer to the heartbeat sent ${this.timers.now() - host.pollStartedAt} ms ago`);
      return;
    }
    host.polling = true;
    host.pollStartedAt = this.timers.now();
    this.poll(host).finally(() => { host.polling = false; });
  }

  private async poll(host: Watched): Promise<void> {
    let report: AgentHostInfo;
    try {
      report = await this.call(host, (signal) => host.client.hostInfo({ signal }));
    } catch (e) {
      if (this.hosts.get(host.id) === host) this.failed(host, (e as Error).message);
      return;
    }
    if (this.hosts.get(host.id) !== host) return;
    const now = this.timers.now();
    host.lastHeardAt = now;
    host.lastAnswerAt = now;
    host.lastReport = report;
    host.reason = '';
    await this.report(host, () => this.sink.onHostReport(host.id, report));
    if (host.state === 'down') {
      host.state = 'up';
      host.needsReconcile = true;
      await this.report(host, () => this.sink.onHostUp(host.id));
    }
    if (host.needsReconcile || now - host.lastReconcileAt >= this.reconcileEveryMs) await this.reconcile(host);
  }

  private async reconcile(host: Watched): Promise<void> {
    let onAgent: readonly AgentVmView[];
    try {
      onAgent = await this.call(host, (signal) => host.client.listVms({ signal }));
    } catch (e) {
      // It answers its heartbeat, so it is up; the next poll tries again.
      this.log(`host ${host.id}: cannot list its VMs to reconcile them: ${(e as Error).message}`);
      return;
    }
    if (this.hosts.get(host.id) !== host || host.state === 'down') return;
    await this.report(host, async () => {
      const result = reconcile(await this.vms.vmsOnHost(host.id), onAgent);
      if (result.changes.length > 0 || result.strays.length > 0) await this.sink.onVmsReconciled(host.id, result);
      // Only once recorded: a failure is tried again at the next answer.
      host.needsReconcile = false;
      host.lastReconcileAt = this.timers.now();
    });
  }

  private failed(host: Watched, reason: string): void {
    host.reason = reason;
    if (host.state !== 'up' || this.timers.now() - host.lastHeardAt < this.downAfterMs) return;
    host.state = 'down';
    void this.report(host, async () => {
      await this.sink.onHostDown(host.id, reason);
      const changes = markUnknown(await this.vms.vmsOnHost(host.id), `host down: ${reason}`);
      if (changes.length > 0) await this.sink.onVmsReconciled(host.id, { changes, strays: [] });
    });
  }

  /** One request with its own deadline on the monitor's timers. */
  private async call<T>(host: Watched, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    host.aborts.add(controller);
    const timer = this.timers.setTimeout(() => controller.abort(new Error(`no answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    try {
      return await request(controller.signal);
    } finally {
      this.timers.clearTimeout(timer);
      host.aborts.delete(controller);
    }
  }

  /** Runs a sink call after the host's earlier ones; its failure is logged, never the host's. */
  private report(host: Watched, call: () => void | Promise<void>): Promise<void> {
    host.reports = host.reports.then(call).catch((e: unknown) => this.log(`host ${host.id}: recording its state failed: ${(e as Error).message}`));
    return host.reports;
  }
}
