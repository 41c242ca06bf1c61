// The master's client of one host agent, over the agent's HTTP API only: TCP with its bearer
// token, or its Unix socket for an agent on the master's own machine. Every request has a
// deadline; every failure is a HostLinkError whose kind says what happened.

import { parseMigrationTarget } from '../../vm/api/migration-target.js';
import { VmApiClient, VmApiClientError } from '../../vm/api/vm-api-client.js';
import type { AgentHostInfo, AgentOperation, AgentPhysicalLun, AgentVm, AgentVmStats, AgentVolume, DefineRequest } from './agent-api-types.js';
import { HostLinkError } from './host-link-error.js';

/** A request's deadline unless the call says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** The agent answers a start once the VM's API serves, which it waits up to 30 s for. */
const START_GRACE_MS = 35_000;
/** A graceful stop waits its timeout, then tries the VM's stop, SIGTERM and SIGKILL (2 s each). */
const STOP_GRACE_MS = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/** Long-poll an operation this long per request. */
const OPERATION_POLL_SECONDS = 30;

export interface HostAgentClientOptions {
  /** tcp:HOST:PORT or http://HOST:PORT (with `token`), or the agent's Unix socket: unix:PATH or an absolute path. */
  address: string;
  /** The agent's bearer token (`vireo host serve --token-file`); needed on TCP. */
  token?: string;
  /** Each request's deadline (default 10 s); starts, stops and long polls add what they wait for. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** Abandons the request: it fails with kind 'timeout'. */
  signal?: AbortSignal;
  /** This request's deadline instead of the client's. */
  timeoutMs?: number;
}

export interface OperationOptions extends CallOptions {
  /** Called with the operation as it starts and on each change of its progress. */
  onProgress?: (op: AgentOperation) => void;
}

export interface StopOptions {
  /** SIGKILL at once instead of asking the guest. */
  force?: boolean;
  /** How long a graceful stop waits for the guest before powering it off (default 30 s). */
  timeoutMs?: number;
}

export class HostAgentClient {
  readonly address: string;
  private readonly api: VmApiClient;
  private readonly timeoutMs: number;

  constructor(options: HostAgentClientOptions) {
    this.address = options.address;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const hint = 'is the host agent running (vireo host serve) and its address right?';
    const tcp = tcpAddress(options.address);
    if (tcp !== null) {
      if (options.token === undefined) throw new HostLinkError('unauthorized', `the host agent at ${options.address} is on TCP: give the client its bearer token`, { host: options.address });
      this.api = new VmApiClient(options.address, { tcp, token: options.token, unreachableHint: hint });
    } else {
      const path = options.address.startsWith('unix:') ? options.address.slice('unix:'.length) : options.address;
      if (!path.startsWith('/')) throw new HostLinkError('unreachable', `'${options.address}' is not a host agent address: give tcp:HOST:PORT, http://HOST:PORT, unix:PATH or an absolute socket path`, { host: options.address });
      this.api = new VmApiClient(path, { ...(options.token === undefined ? {} : { token: options.token }), unreachableHint: hint });
    }
  }

  /** GET /host: the host's cores, memory and budget, storage and VMs by state; the heartbeat. */
  async hostInfo(options?: CallOptions): Promise<AgentHostInfo> {
    const info = await this.send<AgentHostInfo>('GET', '/host', undefined, options);
    return this.expect(info, typeof info?.cores === 'number' && typeof info.memory?.budgetMiB === 'number' && typeof info.storage?.free === 'number', 'GET /host');
  }

  async listVms(options?: CallOptions): Promise<AgentVm[]> {
    const answer = await this.send<{ vms: AgentVm[] }>('GET', '/vms', undefined, options);
    return this.expect(answer?.vms, Array.isArray(answer?.vms) && answer.vms.every((vm) => typeof vm?.name === 'string' && typeof vm.state === 'string'), 'GET /vms');
  }

  getVm(name: string, options?: CallOptions): Promise<AgentVm> {
    return this.send('GET', vmPath(name), undefined, options);
  }

  /** The host's physical LUNs by name, `default` (the agent's own) among them. */
  async listLuns(options?: CallOptions): Promise<AgentPhysicalLun[]> {
    const answer = await this.send<{ luns: AgentPhysicalLun[] }>('GET', '/luns', undefined, options);
    return this.expect(answer?.luns, Array.isArray(answer?.luns) && answer.luns.every((lun) => typeof lun?.name === 'string' && typeof lun.usage?.free === 'number'), 'GET /luns');
  }

  /** Adopts the physical LUN in `lun.path` on the host, or makes one there. */
  addLun(lun: { name: string; path: string; capacityBytes?: number; overcommitRatio?: number }, options?: CallOptions): Promise<AgentPhysicalLun> {
    return this.send('POST', '/luns', lun, options);
  }

  /** The agent forgets a physical LUN without volumes (its directory stays on the host). */
  async removeLun(name: string, options?: CallOptions): Promise<void> {
    await this.send('DELETE', lunPath(name), undefined, options);
  }

  async listVolumes(lun: string, options?: CallOptions): Promise<AgentVolume[]> {
    const path = `${lunPath(lun)}/volumes`;
    const answer = await this.send<{ volumes: AgentVolume[] }>('GET', path, undefined, options);
    return this.expect(answer?.volumes, Array.isArray(answer?.volumes) && answer.volumes.every((v) => typeof v?.name === 'string' && typeof v.sizeBytes === 'number'), `GET ${path}`);
  }

  /** Creates an empty thin volume of `volume.sizeMiB` on physical LUN `lun`. */
  createVolume(lun: string, volume: { name: string; sizeMiB: number }, options?: CallOptions): Promise<AgentVolume> {
    return this.send('POST', `${lunPath(lun)}/volumes`, volume, options);
  }

  /** Deletes a volume and its data; refused while a VM definition uses it. */
  async deleteVolume(lun: string, name: string, options?: CallOptions): Promise<void> {
    await this.send('DELETE', `${lunPath(lun)}/volumes/${encodeURIComponent(name)}`, undefined, options);
  }

  /**
   * POST /vms: defines (does not start) the VM; disks with sizeMiB become new thin LUNs on the
   * host, disks with `volume` attach an existing volume.
   */
  defineVm(request: DefineRequest, options?: CallOptions): Promise<AgentVm> {
    return this.send('POST', '/vms', request, options);
  }

  /** Starts the VM's process; answers once its API serves. */
  startVm(name: string, options?: CallOptions): Promise<AgentVm> {
    return this.send('POST', `${vmPath(name)}/start`, undefined, options, START_GRACE_MS);
  }

  /** Stops the VM (the guest's power button, then harder); answers once its process has ended. */
  stopVm(name: string, stop: StopOptions = {}, options?: CallOptions): Promise<AgentVm> {
    const waitMs = stop.force === true ? 0 : (stop.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    const body = { force: stop.force === true, ...(stop.timeoutMs === undefined ? {} : { timeoutSeconds: stop.timeoutMs / 1000 }) };
    return this.send('POST', `${vmPath(name)}/stop`, body, options, waitMs + STOP_GRACE_MS);
  }

  pauseVm(name: string, options?: CallOptions): Promise<AgentVm> {
    return this.send('POST', `${vmPath(name)}/pause`, undefined, options);
  }

  resumeVm(name: string, options?: CallOptions): Promise<AgentVm> {
    return this.send('POST', `${vmPath(name)}/resume`, undefined, options);
  }

  /** Deletes a VM that is not running; `disks` also deletes the LUNs the agent made for it. */
  async deleteVm(name: string, remove: { disks?: boolean } = {}, options?: CallOptions): Promise<void> {
    await this.send('DELETE', `${vmPath(name)}${remove.disks === true ? '?disks=true' : ''}`, undefined, options);
  }

  vmStats(name: string, options?: CallOptions): Promise<AgentVmStats> {
    return this.send('GET', `${vmPath(name)}/stats`, undefined, options);
  }

  /** Saves a whole-VM snapshot on the host (the agent's operation, followed to its end); its result names the file. */
  async snapshotVm(name: string, snapshot: { path?: string; resume?: boolean } = {}, options: OperationOptions = {}): Promise<AgentOperation> {
    const op = await this.send<AgentOperation>('POST', `${vmPath(name)}/snapshot`, snapshot, options);
    return this.waitOperation(op, options);
  }

  /**
   * Moves the running VM to the agent of `destination`: the destination listens for it
   * (POST /vms/incoming, on `listenHost`, which this host must reach), then this agent sends it.
   */
  async migrateVm(name: string, destination: HostAgentClient, migrate: { listenHost?: string } = {}, options: OperationOptions = {}): Promise<AgentOperation> {
    const vm = await this.getVm(name, options);
    const incoming = { name, ramMiB: vm.definition.spec.ramMiB, autostart: vm.definition.autostart, cpu: vm.definition.spec.cpu, ...(migrate.listenHost === undefined ? {} : { listenHost: migrate.listenHost }) };
    const { target } = await destination.send<{ target: string }>('POST', '/vms/incoming', incoming, options);
    const op = await this.send<AgentOperation>('POST', `${vmPath(name)}/migrate`, { target }, options);
    return this.waitOperation(op, options);
  }

  /** Follows an operation until it ends; a failed one is thrown as 'agent-error' with the agent's reason. */
  async waitOperation(first: AgentOperation, options: OperationOptions = {}): Promise<AgentOperation> {
    let op = first;
    options.onProgress?.(op);
    while (op.state === 'running') {
      const path = `/operations/${encodeURIComponent(op.id)}?wait=${OPERATION_POLL_SECONDS}&after=${op.revision}`;
      const next = await this.send<AgentOperation>('GET', path, undefined, options, OPERATION_POLL_SECONDS * 1000);
      if (next.revision !== op.revision) options.onProgress?.(next);
      op = next;
    }
    if (op.state === 'failed') {
      throw new HostLinkError('agent-error', `the ${op.kind} operation ${op.id} on host ${this.address} failed: ${op.error?.message ?? 'no reason given'}`, { host: this.address, ...(op.error === undefined ? {} : { agentKind: op.error.kind }) });
    }
    return op;
  }

  /** The VM's serial console: a WebSocket URL on the agent and the headers to open it with (binary frames both ways). */
  console(name: string): { url: string; headers: Record<string, string> } {
    return this.api.webSocket(`${vmPath(name)}/console`);
  }

  private async send<T>(method: string, path: string, body: unknown, options: CallOptions = {}, waitMs = 0): Promise<T> {
    const request = `${method} ${path}`;
    const limitMs = (options.timeoutMs ?? this.timeoutMs) + waitMs;
    const deadline = AbortSignal.timeout(limitMs);
    const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
    try {
      return await this.api.call<T>(method, path, body, { signal });
    } catch (e) {
      if (!(e instanceof VmApiClientError)) throw e;
      const context = { host: this.address, request, ...(e.status === undefined ? {} : { status: e.status }), ...(e.apiKind === undefined ? {} : { agentKind: e.apiKind }) };
      if (e.kind === 'unreachable' && signal.aborted) {
        const why = deadline.aborted ? `no answer within ${limitMs} ms` : `given up: ${String((options.signal?.reason as Error | undefined)?.message ?? options.signal?.reason)}`;
        throw new HostLinkError('timeout', `host agent ${this.address}: ${request}: ${why}`, context, { cause: e });
      }
      if (e.kind !== 'api') throw new HostLinkError(e.kind, `host agent ${this.address}: ${request}: ${e.message}`, context, { cause: e });
      const status = e.status ?? 0;
      if (status === 401) throw new HostLinkError('unauthorized', `host agent ${this.address} refused the master's token (${request}): check the token registered for the host`, context, { cause: e });
      const kind = status >= 400 && status < 500 ? 'refused' : status >= 500 ? 'agent-error' : 'bad-response';
      throw new HostLinkError(kind, `host agent ${this.address}: ${request}: ${e.message}${e.apiKind === undefined ? '' : ` (${e.apiKind})`}`, context, { cause: e });
    }
  }

  private expect<T>(value: T, ok: boolean, request: string): T {
    if (!ok) throw new HostLinkError('bad-response', `host agent ${this.address} answered ${request} with something that is not what its API describes`, { host: this.address, request });
    return value;
  }
}

function vmPath(name: string): string {
  return `/vms/${encodeURIComponent(name)}`;
}

function lunPath(name: string): string {
  return `/luns/${encodeURIComponent(name)}`;
}

/** TCP host and port of tcp:HOST:PORT or http://HOST:PORT, or null for a socket path. */
export function tcpAddress(address: string): { host: string; port: number } | null {
  let text = address;
  if (address.startsWith('http://')) text = `tcp:${address.slice('http://'.length).replace(/\/$/u, '')}`;
  else if (!address.startsWith('tcp:')) return null;
  const tcp = parseMigrationTarget(text);
  if (typeof tcp === 'string') throw new HostLinkError('unreachable', `bad host agent address: ${tcp}`, { host: address });
  return tcp;
}
