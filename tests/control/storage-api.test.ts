// Storage and networks through the master on a real host agent: physical LUNs added by the
// staff (the agent's own and a directory of the host), a tenant's virtual LUNs carved from them
// and attached to its VMs, networks for their NICs; tenants kept to their own, and nothing in
// use deleted from under a VM. And two creations at once never both take the last room.

import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { AgentProcess, IDLE_KERNEL, stopAgents } from '../support/agent-process.js';
import { agentClient } from '../support/master-agents.js';
import { startTestMaster, type MasterClient, type TestMaster } from '../support/master-client.js';
import { tenantWithUser, type TenantUser } from '../support/tenant-user.js';

const TOKEN = 'master-storage-api-token-0123456789';

let m: TestMaster;
let dir: string;
let kernel: string;
let agent: AgentProcess;
let admin: MasterClient;
let alice: TenantUser;
let bob: TenantUser;
let dataCenterId: string;
let hostId: string;
const luns: Record<string, { id: string; name: string; physicalLunId?: string }> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-storage-api-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  kernel = join(dir, 'idle.bin');
  await writeFile(kernel, IDLE_KERNEL);
  m = await startTestMaster({ bootDirs: [dir] });
  agent = await AgentProcess.start(join(dir, 'agent'), tokenFile, ['--memory-budget', '1000']);
  admin = await m.admin();
  alice = await tenantWithUser(m, 'tenant-alice', 'alice');
  bob = await tenantWithUser(m, 'tenant-bob', 'bob');
  dataCenterId = (await admin.call('POST', '/api/v1/data-centers', { name: 'dc-storage' })).body.id;
  const host = await admin.call('POST', '/api/v1/hosts', { dataCenterId, name: 'host-storage', url: `tcp:127.0.0.1:${agent.port}`, token: TOKEN });
  assert.equal(host.status, 201, host.text);
  hostId = host.body.id;
});

after(async () => {
  await m?.close();
  if (agent !== undefined) await stopAgents([agent]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const client = () => agentClient(agent, TOKEN);

test('the staff add physical LUNs: the agent\'s own, and a new one in a directory of the host; tenants never see them', async () => {
  const own = await admin.call('POST', '/api/v1/physical-luns', { hostId, name: 'default' });
  assert.equal(own.status, 201, own.text);
  assert.equal(own.body.path, join(dir, 'agent', 'luns'));
  assert.ok(own.body.capacityBytes > 0);

  const unknown = await admin.call('POST', '/api/v1/physical-luns', { hostId, name: 'nowhere' });
  assert.equal(unknown.status, 400, unknown.text);
  assert.equal(unknown.body.field, 'path');

  const small = await admin.call('POST', '/api/v1/physical-luns', { hostId, name: 'small', path: join(dir, 'small-lun'), capacityBytes: 64 * 2 ** 20 });
  assert.equal(small.status, 201, small.text);
  assert.equal(small.body.capacityBytes, 64 * 2 ** 20);
  assert.equal(small.body.provisionedBytes, 0);
  assert.ok((await client().listLuns()).some((lun) => lun.name === 'small' && lun.path === join(dir, 'small-lun')), 'the agent has it');
  const twice = await admin.call('POST', '/api/v1/physical-luns', { hostId, name: 'small', path: join(dir, 'other') });
  assert.equal(twice.status, 409, twice.text);
  luns['default'] = own.body;
  luns['small'] = small.body;

  const listed = await admin.call('GET', `/api/v1/physical-luns?hostId=${hostId}`);
  assert.deepEqual(listed.body.items.map((l: { name: string }) => l.name), ['default', 'small']);
  assert.equal((await alice.client.call('GET', '/api/v1/physical-luns')).status, 403);
  assert.equal((await alice.client.call('GET', `/api/v1/physical-luns/${small.body.id}`)).status, 403);
  assert.equal((await alice.client.call('POST', '/api/v1/physical-luns', { hostId, name: 'mine', path: join(dir, 'mine') })).status, 403);
});

test('a tenant carves virtual LUNs from the data center\'s physical LUNs; other tenants see nothing of them', async () => {
  const body = { tenantId: alice.tenantId, dataCenterId, name: 'data', sizeGiB: 1 / 16 };
  const named = await alice.client.call('POST', '/api/v1/virtual-luns', { ...body, physicalLunId: luns['small']!.id });
  assert.equal(named.status, 404, 'a tenant cannot name a physical LUN it cannot see');
  const made = await alice.client.call('POST', '/api/v1/virtual-luns', body);
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.sizeBytes, 64 * 2 ** 20);
  assert.equal(made.body.hostId, hostId);
  assert.equal(made.body.vmId, null);
  const volumes = await client().listVolumes(made.body.physicalLunId === luns['small']!.id ? 'small' : 'default');
  const volume = volumes.find((v) => v.name === `vlun-${made.body.id}`);
  assert.ok(volume !== undefined, 'the volume is on the host');
  assert.equal(volume.sizeBytes, 64 * 2 ** 20);
  const magic = Buffer.alloc(4);
  const file = await open(volume.path, 'r');
  await file.read(magic, 0, 4, 0);
  await file.close();
  assert.deepEqual([...magic], [0x51, 0x46, 0x49, 0xfb], 'a qcow2 image');
  luns['data'] = made.body;

  assert.equal((await alice.client.call('POST', '/api/v1/virtual-luns', body)).status, 409, 'names are unique in the tenant');
  const tooBig = await admin.call('POST', '/api/v1/virtual-luns', { ...body, name: 'huge', physicalLunId: luns['small']!.id, sizeGiB: 2 });
  assert.equal(tooBig.status, 409, tooBig.text);
  assert.match(tooBig.body.detail, /no physical LUN has room/u);

  assert.equal((await bob.client.call('GET', `/api/v1/virtual-luns/${made.body.id}`)).status, 404);
  assert.deepEqual((await bob.client.call('GET', '/api/v1/virtual-luns')).body.items, []);
  assert.equal((await bob.client.call('POST', '/api/v1/virtual-luns', { ...body, tenantId: alice.tenantId, name: 'sneaky' })).status, 404);
  assert.deepEqual((await alice.client.call('GET', '/api/v1/virtual-luns')).body.items.map((l: { name: string }) => l.name), ['data']);

  const read = await alice.client.call('GET', `/api/v1/virtual-luns/${made.body.id}`);
  const renamed = await alice.client.call('PATCH', `/api/v1/virtual-luns/${made.body.id}`, { name: 'data-1' }, { 'if-match': read.headers['etag'] as string });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.name, 'data-1');
});

test('networks belong to a tenant; a VM attaches its virtual LUN and network on the LUN\'s host, and neither goes while it is there', async () => {
  const network = await alice.client.call('POST', '/api/v1/networks', { tenantId: alice.tenantId, dataCenterId, name: 'backend', kind: 'switch' });
  assert.equal(network.status, 201, network.text);
  const outside = await alice.client.call('POST', '/api/v1/networks', { tenantId: alice.tenantId, dataCenterId, name: 'outside', kind: 'user' });
  assert.equal(outside.status, 201, outside.text);
  assert.equal((await bob.client.call('GET', `/api/v1/networks/${network.body.id}`)).status, 404);
  assert.deepEqual((await bob.client.call('GET', '/api/v1/networks')).body.items, []);

  const vmBody = { tenantId: alice.tenantId, dataCenterId, name: 'db', memoryMiB: 32, boot: { kernel }, disks: [{ virtualLunId: luns['data']!.id }, { sizeGiB: 1 / 64 }], networkId: network.body.id };
  const byBob = await bob.client.call('POST', '/api/v1/vms', { ...vmBody, tenantId: bob.tenantId });
  assert.equal(byBob.status, 404, `another tenant's LUN is not found: ${byBob.text}`);
  const vm = await alice.client.call('POST', '/api/v1/vms', vmBody);
  assert.equal(vm.status, 201, vm.text);
  assert.equal(vm.body.hostId, hostId);
  assert.equal(vm.body.networkId, network.body.id);
  assert.equal((await alice.client.call('GET', `/api/v1/virtual-luns/${luns['data']!.id}`)).body.vmId, vm.body.id);

  const onAgent = (await client().listVms()).find((v) => v.name.startsWith('vm-'))!;
  const [attached, own] = onAgent.definition.spec.disks;
  assert.deepEqual(attached!.volume, { lun: luns['data']!.physicalLunId === luns['small']!.id ? 'small' : 'default', name: `vlun-${luns['data']!.id}` });
  assert.equal(own!.volume, undefined);
  assert.deepEqual(onAgent.definition.spec.network, { name: `net-${network.body.id}` });

  const again = await alice.client.call('POST', '/api/v1/vms', { ...vmBody, name: 'db-2' });
  assert.equal(again.status, 409, 'a virtual LUN is attached to one VM at a time');
  const busyLun = await alice.client.call('DELETE', `/api/v1/virtual-luns/${luns['data']!.id}`);
  assert.equal(busyLun.status, 409, busyLun.text);
  const busyNet = await alice.client.call('DELETE', `/api/v1/networks/${network.body.id}`);
  assert.equal(busyNet.status, 409, busyNet.text);
  const move = await admin.call('POST', `/api/v1/vms/${vm.body.id}/migrate`, { hostId });
  assert.equal(move.status, 409);
  assert.match(move.body.detail, /virtual LUNs/u);

  const natted = await alice.client.call('POST', '/api/v1/vms', { tenantId: alice.tenantId, dataCenterId, name: 'web', memoryMiB: 32, boot: { kernel }, networkId: outside.body.id });
  assert.equal(natted.status, 201, natted.text);
  assert.equal((await client().listVms()).find((v) => v.definition.spec.network === 'user')?.definition.spec.disks.length, 0);

  for (const id of [vm.body.id, natted.body.id]) assert.equal((await alice.client.call('DELETE', `/api/v1/vms/${id}`)).status, 204);
  const detached = await alice.client.call('GET', `/api/v1/virtual-luns/${luns['data']!.id}`);
  assert.equal(detached.body.vmId, null, 'the LUN outlives its VM, detached');
  assert.ok((await client().listVolumes(detached.body.physicalLunId === luns['small']!.id ? 'small' : 'default')).some((v) => v.name === `vlun-${luns['data']!.id}`));
  assert.equal((await alice.client.call('DELETE', `/api/v1/networks/${network.body.id}`)).status, 204);
});

test('physical LUNs go only once empty; deleting a virtual LUN deletes its volume on the host', async () => {
  const inUse = luns['data']!.physicalLunId;
  const refused = await admin.call('DELETE', `/api/v1/physical-luns/${inUse}`);
  assert.equal(refused.status, 409, refused.text);
  const lunName = inUse === luns['small']!.id ? 'small' : 'default';
  assert.equal((await alice.client.call('DELETE', `/api/v1/virtual-luns/${luns['data']!.id}`)).status, 204);
  assert.ok(!(await client().listVolumes(lunName)).some((v) => v.name === `vlun-${luns['data']!.id}`), 'the volume is gone from the host');
  for (const name of ['small', 'default']) {
    const removed = await admin.call('DELETE', `/api/v1/physical-luns/${luns[name]!.id}`);
    assert.equal(removed.status, 204, removed.text);
  }
  assert.ok(!(await client().listLuns()).some((lun) => lun.name === 'small'), 'the agent forgot it');
  assert.deepEqual((await admin.call('GET', '/api/v1/physical-luns')).body.items, []);
});

test('two VMs created at once that only one fits: one is placed, the other refused', async () => {
  const vm = (name: string) => alice.client.call('POST', '/api/v1/vms', { tenantId: alice.tenantId, dataCenterId, name, memoryMiB: 400, boot: { kernel } });
  const replies = await Promise.all([vm('race-1'), vm('race-2')]);
  assert.deepEqual(replies.map((r) => r.status).sort(), [201, 409], replies.map((r) => r.text).join('\n'));
  const placed = replies.find((r) => r.status === 201)!;
  assert.equal((await client().listVms()).length, 1, 'only one is defined on the agent');
  assert.equal((await alice.client.call('DELETE', `/api/v1/vms/${placed.body.id}`)).status, 204);
});
