// A host agent with fake VM processes, serving its API on a Unix socket (and TCP with a token)
// in a temporary directory, for tests of the API and of its clients.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostAgent } from '../../src/host/host-agent.js';
import { serveHostApi, type HostApiServer } from '../../src/host/api/host-api-server.js';
import { VmApiClient } from '../../src/vm/api/vm-api-client.js';
import { fakeSpawner } from './fake-vm-process.js';

export const AGENT_TOKEN = 'a-token-of-thirty-two-characters';

export interface AgentServerSetup {
  agent: HostAgent;
  server: HostApiServer;
  /** A client on the Unix socket. */
  unix: VmApiClient;
  /** A client on TCP, with `token` if given. */
  tcp(token?: string): VmApiClient;
  /** The fake VM processes started so far. */
  spawned: ReturnType<typeof fakeSpawner>['spawned'];
  dir: string;
}

/** Runs `body` against a fresh agent (1 GiB of storage in DIR/luns), then shuts it down and removes its directory. */
export async function withAgentServer(body: (s: AgentServerSetup) => Promise<void>): Promise<void> {
  // Socket paths must stay short: a temporary directory of its own.
  const dir = mkdtempSync(join(tmpdir(), 'vh-'));
  const fake = fakeSpawner();
  const agent = await HostAgent.open({ dataDir: dir, spawn: fake.spawn, storageCapacityBytes: 1024 ** 3, log: () => {} });
  const server = await serveHostApi(agent, { socketPath: join(dir, 'agent.sock'), tcp: { host: '127.0.0.1', port: 0, token: AGENT_TOKEN } });
  const tcp = (token?: string) => new VmApiClient('agent', { tcp: server.tcp!, ...(token === undefined ? {} : { token }), unreachableHint: 'no agent' });
  try {
    await body({ agent, server, unix: new VmApiClient(server.socketPath, { unreachableHint: 'no agent' }), tcp, spawned: fake.spawned, dir });
  } finally {
    await agent.shutdown(1000);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
