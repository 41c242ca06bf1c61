// Tenant networks under a real agent: three `vireo run` processes running a small bare-metal
// guest (tests/host/net-guest: broadcasts a frame every 100 ms, prints "rx MAC" for each frame
// it takes), two on network tenant-a and one on tenant-b. The two on tenant-a hear each other;
// the one on tenant-b hears nothing, though it sends all the while.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { buildFreestandingProgram, repoRoot } from '../support/riscv-toolchain.js';
import type { NicStats } from '../../src/vm/api/vm-resources.js';
import { AgentProcess, eventually } from '../support/agent-process.js';

const NETWORKS: Record<string, string> = { a1: 'tenant-a', a2: 'tenant-a', b1: 'tenant-b' };

interface Stats { state: string; vm: { nics: NicStats[] } | null }

/** What VM `name`'s console has shown so far (its tail, over the agent's WebSocket). */
async function consoleText(agent: AgentProcess, name: string): Promise<string> {
  const ws = new WebSocket(`ws+unix:${agent.socketPath}:/vms/${name}/console`);
  let seen = '';
  ws.on('message', (d: Buffer) => { seen += d.toString('utf8'); });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  await new Promise((r) => setTimeout(r, 300));
  ws.close();
  return seen;
}

test('VMs on one network exchange frames; a VM on another network never sees them', { timeout: 120_000 }, async () => {
  const elf = buildFreestandingProgram('host-net-guest', join(repoRoot(), 'tests', 'host', 'net-guest'));
  const dir = mkdtempSync(join(tmpdir(), 'vhn-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'network-test-token-0123456789abc\n', { mode: 0o600 });
  const agent = await AgentProcess.start(join(dir, 'data'), tokenFile, ['--memory-budget', '4000']);
  try {
    const api = agent.client();
    // The guest polls its NIC without end: a cap keeps three of them light.
    for (const [name, network] of Object.entries(NETWORKS)) {
      await api.call('POST', '/vms', { name, spec: { ramMiB: 16, boot: { kernel: elf }, network: { name: network }, cpu: { capPercent: 20 } } });
    }
    await Promise.all(Object.keys(NETWORKS).map((name) => api.call('POST', `/vms/${name}/start`)));
    const networks = await api.call<{ networks: Array<{ name: string; ports: number }> }>('GET', '/networks');
    assert.deepEqual(networks.networks.map((n) => [n.name, n.ports]), [['tenant-a', 2], ['tenant-b', 1]]);

    const nic = async (name: string): Promise<NicStats> => (await api.call<Stats>('GET', `/vms/${name}/stats`)).vm!.nics[0]!;
    await eventually('a1 and a2 to hear each other', 60_000, async () => (await nic('a1')).rxFrames >= 5 && (await nic('a2')).rxFrames >= 5);
    await eventually('b1 to have sent', 30_000, async () => (await nic('b1')).txFrames >= 10);
    const [a1, a2, b1] = await Promise.all(['a1', 'a2', 'b1'].map(nic));
    assert.equal(b1!.rxFrames + b1!.rxDropped, 0, `tenant-b heard nothing of tenant-a: ${JSON.stringify(b1)}`);
    assert.notEqual(a1!.mac, a2!.mac);

    // Each guest names whom it heard: a1 heard a2, and only a2.
    const text = await consoleText(agent, 'a1');
    const heard = new Set([...text.matchAll(/rx ([0-9a-f]{12})/g)].map((m) => m[1]!));
    assert.deepEqual([...heard], [a2!.mac.replaceAll(':', '')], text.slice(-500));
    const listed = await api.call<{ networks: Array<{ name: string; macs: string[] }> }>('GET', '/networks');
    assert.deepEqual(listed.networks.find((n) => n.name === 'tenant-b')!.macs, [b1!.mac]);
    assert.deepEqual([...listed.networks.find((n) => n.name === 'tenant-a')!.macs].sort(), [a1!.mac, a2!.mac].sort());
  } finally {
    agent.child.kill('SIGTERM');
    await agent.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
