import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SwitchClient } from '../net/switch-socket/switch-client.js';
import { HostAgent } from './host-agent.js';
import { HostError } from './host-error.js';
import { VM_DESCRIPTION_VERSION, type VmDescription } from '../vm/vm-description.js';
import { specOf } from './vm-operations.js';
import { fakeSpawner } from '../../tests/host/fake-vm-process.js';

const spec = { ramMiB: 64, boot: { kernel: '/nonexistent/k.elf' } };

/** An Ethernet broadcast from `src` (a locally administered MAC ending in `n`). */
function broadcast(n: number): Uint8Array {
  const frame = new Uint8Array(60);
  frame.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, n, 0x88, 0xb5]);
  return frame;
}

test('each named network is a switch of its own: its VMs join it, other networks never see its frames', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vh-'));
  const fake = fakeSpawner();
  let agent = await HostAgent.open({ dataDir: dir, spawn: fake.spawn, memoryBudgetMiB: 100_000, storageCapacityBytes: 1024 ** 3, log: () => {} });
  const clients: SwitchClient[] = [];
  try {
    await assert.rejects(agent.define({ name: 'bad', spec: { ...spec, network: { name: 'Tenant_A' } } }), (e: unknown) => e instanceof HostError && e.kind === 'invalid-definition');
    await agent.define({ name: 'a1', spec: { ...spec, network: { name: 'tenant-a' } } });
    await agent.define({ name: 'a2', spec: { ...spec, network: { name: 'tenant-a' } } });
    await agent.define({ name: 'b1', spec: { ...spec, network: { name: 'tenant-b' } } });
    await agent.define({ name: 'own', spec: { ...spec, network: 'host' } });
    for (const name of ['a1', 'b1', 'own']) await agent.start(name);
    const netArg = (i: number) => fake.spawned[i]!.request.runArgs.slice(fake.spawned[i]!.request.runArgs.indexOf('--net'))[1];
    assert.equal(netArg(0), `switch:${join(dir, 'networks', 'tenant-a.sock')}`);
    assert.equal(netArg(1), `switch:${join(dir, 'networks', 'tenant-b.sock')}`);
    assert.equal(netArg(2), 'host');
    assert.deepEqual((await agent.networks.list()).map((n) => n.name), ['tenant-a', 'tenant-b']);
    assert.deepEqual(((await agent.hostInfo())['networks'] as Array<{ name: string }>).map((n) => n.name), ['tenant-a', 'tenant-b']);

    // Stand-ins for the VMs' NICs: two on tenant-a, one on tenant-b.
    const [a1, a2, b1] = await Promise.all(['tenant-a', 'tenant-a', 'tenant-b'].map((net) => SwitchClient.connect(agent.networks.socketPath(net))));
    clients.push(a1!, a2!, b1!);
    await new Promise((r) => setTimeout(r, 100));
    a1!.send(broadcast(1));
    b1!.send(broadcast(3));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(a2!.receive()?.[11], 1, 'a frame on tenant-a reaches the other tenant-a port');
    assert.equal(a2!.receive(), undefined, 'and nothing from tenant-b');
    assert.equal(a1!.receive()?.[11], undefined, 'a port does not hear itself or tenant-b');
    assert.equal(b1!.receive(), undefined, 'tenant-b hears nothing of tenant-a');
    const listed = await agent.networks.list();
    assert.equal(listed.find((n) => n.name === 'tenant-a')!.ports, 2);
    assert.deepEqual(listed.find((n) => n.name === 'tenant-a')!.macs, ['02:00:00:00:00:01']);

    // The networks come back with the agent; one that no VM names any more goes.
    for (const c of clients) c.close();
    await agent.shutdown(1000);
    agent = await HostAgent.open({ dataDir: dir, spawn: fake.spawn, memoryBudgetMiB: 100_000, log: () => {} });
    assert.deepEqual((await agent.networks.list()).map((n) => n.name), ['tenant-a', 'tenant-b']);
    await agent.remove('b1', { disks: true });
    assert.deepEqual((await agent.networks.list()).map((n) => n.name), ['tenant-a']);
    assert.equal(existsSync(join(dir, 'networks', 'tenant-b.sock')), false);
  } finally {
    for (const c of clients) c.close();
    await agent.shutdown(1000);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a VM arriving by migration from an agent\'s network is on the network of that name here, one on user networking stays on it; its harts come along', () => {
  const description = (network: VmDescription['network'], cpus?: number): VmDescription => ({
    version: VM_DESCRIPTION_VERSION, ramMiB: 64, ...(cpus !== undefined ? { cpus } : {}), boot: { kernel: { path: '/k.elf' } }, disks: [], network, shares: [], console: 'ttyS0', translation: 'on',
  });
  const cpu = { weight: 100, capPercent: null };
  assert.deepEqual(specOf(description({ mac: '52:54:00:12:34:56', switch: '/srv/vireo/networks/tenant-a.sock' }, 2), cpu).network, { name: 'tenant-a' });
  assert.equal(specOf(description({ mac: '52:54:00:12:34:56', switch: '/srv/vireo/networks/tenant-a.sock' }, 2), cpu).cpus, 2);
  assert.equal(specOf(description({ mac: '52:54:00:12:34:56', switch: '/tmp/my-switch.sock' }), cpu).network, 'host');
  assert.equal(specOf(description({ mac: '52:54:00:12:34:56' }), cpu).network, 'host');
  assert.equal(specOf(description(null), cpu).network, 'none');
  assert.equal(specOf(description({ mac: '52:54:00:12:34:56', mode: 'user', user: { hostForwards: [], guestForwards: [] } }), cpu).network, 'user');
});
