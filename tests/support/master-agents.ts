// Test support for the master's tests on real host agents: a client of an agent as the master
// would make it, and the VM processes the agents run, to be sure they end with the test.

import { HostAgentClient } from '../../src/control/hosts/host-agent-client.js';
import type { AgentProcess } from './agent-process.js';

export function agentClient(agent: AgentProcess, token: string): HostAgentClient {
  return new HostAgentClient({ address: `tcp:127.0.0.1:${agent.port}`, token, timeoutMs: 5000 });
}

/** The pids of the VM processes the agents that still answer run now. */
export async function vmPidsOn(agents: readonly AgentProcess[], token: string): Promise<number[]> {
  const pids: number[] = [];
  for (const agent of agents) {
    const vms = await agentClient(agent, token).listVms({ timeoutMs: 2000 }).catch(() => []);
    for (const vm of vms) if (vm.pid !== null) pids.push(vm.pid);
  }
  return pids;
}
