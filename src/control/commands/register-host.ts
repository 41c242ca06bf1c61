// Registering a host agent: it must answer GET /host with the token given before the master
// records it (the token sealed under the master's key, bound to the host's row); then the
// heartbeat watches it.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import { HostAgentClient } from '../hosts/host-agent-client.js';
import { hostTokenAssociatedData } from '../hosts/host-fleet.js';
import { HostLinkError } from '../hosts/host-link-error.js';
import type { AgentHostInfo } from '../hosts/agent-api-types.js';
import type { MasterServices } from '../master-services.js';
import { seal } from '../security/secret-box.js';
import type { Host } from '../store/hosts.js';
import { recordChange } from './record-change.js';

export interface RegisterHostRequest {
  dataCenterId: string;
  name: string;
  /** tcp:HOST:PORT, the agent's --listen. */
  url: string;
  token: string;
}

/** The agent is asked this long for its first answer. */
const PROBE_TIMEOUT_MS = 5_000;

export async function registerHost(master: MasterServices, caller: Caller, request: RegisterHostRequest): Promise<Host> {
  const report = await probe(request);
  const host = await recordChange(master, caller, {
    action: 'host.create', resource: 'host',
    apply: async (repos) => {
      const created = await repos.hosts.create({
        data_center_id: request.dataCenterId, name: request.name, url: request.url, token_sealed: 'v1.', state: 'up', state_reason: 'answered at registration',
        cpus: report.cores, memory_mib: report.memory.budgetMiB, storage_bytes: report.storage.capacityBytes,
      });
      // Sealed once the id is known: the sealed token opens only in this row.
      await repos.hosts.update(created.id, created.version, { token_sealed: seal(master.key, request.token, hostTokenAssociatedData(created.id)) });
      const observed = await repos.hosts.observe(created.id, { last_report: JSON.stringify(report), last_heartbeat_at: new Date().toISOString() });
      return { result: observed, id: created.id, scope: { dataCenterId: request.dataCenterId }, detail: { name: request.name, url: request.url } };
    },
  });
  master.fleet.watch(host);
  return host;
}

async function probe(request: RegisterHostRequest): Promise<AgentHostInfo> {
  try {
    return await new HostAgentClient({ address: request.url, token: request.token, timeoutMs: PROBE_TIMEOUT_MS }).hostInfo();
  } catch (e) {
    if (!(e instanceof HostLinkError)) throw e;
    const field = e.kind === 'unauthorized' ? 'token' : 'url';
    const advice = e.kind === 'unauthorized'
      ? 'give the token of the agent\'s --token-file'
      : 'check that the agent runs (vireo host serve --listen tcp:HOST:PORT) and that the master can reach that address';
    throw new MasterApiError('invalid-request', `no host agent answered GET /host at ${request.url} (${e.kind}): ${e.message}; ${advice}`, { field, hostLinkKind: e.kind }, { cause: e });
  }
}
