// A host agent's failure as the master's API answers it: the agent's refusal is the caller's
// conflict (with the agent's own kind), an agent that cannot be reached or fails is the master's
// trouble for now (503).

import { MasterApiError } from '../api/master-api-error.js';
import { HostLinkError } from '../hosts/host-link-error.js';

export function agentFailure(e: unknown, hostName: string, what: string): unknown {
  if (!(e instanceof HostLinkError)) return e;
  const context = { host: hostName, hostLinkKind: e.kind, ...(e.agentKind === undefined ? {} : { agentKind: e.agentKind }) };
  if (e.kind === 'refused') return new MasterApiError('conflict', `host ${hostName} refused to ${what}: ${e.message}`, context, { cause: e });
  return new MasterApiError('unavailable', `cannot ${what} on host ${hostName}: ${e.message}`, context, { cause: e });
}

/** Whether the agent answered that it has no such VM. */
export function isMissingOnAgent(e: unknown): boolean {
  return e instanceof HostLinkError && e.kind === 'refused' && e.status === 404;
}
