// The master's infrastructure end to end: two real host agents registered over the API, VMs
// placed on both and started through operations, a tenant kept to its own VMs, the event
// stream filtered to what its reader may see, and one agent SIGKILLed: the master reports its
// host down and its VMs unknown.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { AgentProcess, eventually, IDLE_KERNEL, stopAgents } from '../support/agent-process.js';
import { agentClient, vmPidsOn } from '../support/master-agents.js';
import { EventStream } from '../support/event-stream.js';
import { startTestMaster, type MasterClient, type TestMaster } from '../support/master-client.js';
import { tenantWithUser, type TenantUser } from '../support/tenant-user.js';

const TOKEN = 'master-infra-api-token-0123456789';
const HEARTBEAT = { intervalMs: 250, requestTimeoutMs: 500, downAfterMs: 1500, reconcileEveryMs: 500 };
const BUDGETS = [3000, 3100] as const;

let m: TestMaster;
let dir: string;
let kernel: string;
const agents: AgentProcess[] = [];
/** VM processes seen on the agents, killed at the end should their agent not end them. */
const vmPids = new Set<number>();
let admin: MasterClient;
let alice: TenantUser;
let bob: TenantUser;
let dataCenterId: string;
const hostIds: string[] = [];
const vms: Record<string, { id: string; hostId: string }> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-infra-api-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  kernel = join(dir, 'idle.bin');
  await writeFile(kernel, IDLE_KERNEL);
  m = await startTestMaster({ heartbeat: HEARTBEAT, bootDirs: [dir] });
  agents.push(...await Promise.all(BUDGETS.map((budget, i) => AgentProcess.start(join(dir, `agent-${i}`), tokenFile, ['--memory-budget', String(budget)]))));
  admin = await m.admin();
  alice = await tenantWithUser(m, 'tenant-alice', 'alice');
  bob = await tenantWithUser(m, 'tenant-bob', 'bob');
  const dc = await admin.call('POST', '/api/v1/data-centers', { name: 'dc-infra' });
  assert.equal(dc.status, 201, dc.text);
  dataCenterId = dc.body.id;
});

after(async () => {
  for (const pid of await vmPidsOn(agents, TOKEN)) vmPids.add(pid);
  await m?.close();
  await stopAgents(agents, [...vmPids]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});


async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function newVm(tenant: TenantUser, name: string, extra: Record<string, unknown> = {}) {
  return { tenantId: tenant.tenantId, dataCenterId, name, cpus: 1, memoryMiB: 16, boot: { kernel }, ...extra };
}

test('hosts register only when their agent answers; a tenant user may not register one', { timeout: 20_000 }, async () => {
  const url = `tcp:127.0.0.1:${agents[0]!.port}`;
  const byTenant = await alice.client.call('POST', '/api/v1/hosts', { dataCenterId, name: 'host-x', url, token: TOKEN });
  assert.equal(byTenant.status, 403, byTenant.text);
  const wrongToken = await admin.call('POST', '/api/v1/hosts', { dataCenterId, name: 'host-x', url, token: 'not-the-agents-token-at-all' });
  assert.equal(wrongToken.status, 400, wrongToken.text);
  assert.equal(wrongToken.body.field, 'token');
  const nobody = await admin.call('POST', '/api/v1/hosts', { dataCenterId, name: 'host-x', url: `tcp:127.0.0.1:${await freePort()}`, token: TOKEN });
  assert.equal(nobody.status, 400, nobody.text);
  assert.equal(nobody.body.field, 'url');
  assert.match(nobody.body.detail, /no host agent answered/u);

  for (const [i, agent] of agents.entries()) {
    const reply = await admin.call('POST', '/api/v1/hosts', { dataCenterId, name: `host-${'ab'[i]}`, url: `tcp:127.0.0.1:${agent.port}`, token: TOKEN });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.body.state, 'up');
    assert.equal(reply.body.resources.memoryBudgetMiB, BUDGETS[i]);
    assert.ok(!JSON.stringify(reply.body).includes(TOKEN), 'the token is never shown');
    hostIds.push(reply.body.id);
  }
  const [a] = hostIds;
  const registeredAt = (await admin.call('GET', `/api/v1/hosts/${a}`)).body.lastHeartbeatAt as string;
  const beating = await eventually('a heartbeat after registration', 5000, async () => {
    const host = await admin.call('GET', `/api/v1/hosts/${a}`);
    return host.body.lastHeartbeatAt > registeredAt ? host : undefined;
  });
  assert.equal(beating.body.state, 'up');
  assert.ok(beating.body.resources.cores > 0 && beating.body.resources.storageFreeBytes > 0);
  const listed = await admin.call('GET', `/api/v1/hosts?dataCenterId=${dataCenterId}&state=up`);
  assert.deepEqual(listed.body.items.map((h: { name: string }) => h.name), ['host-a', 'host-b']);
  assert.equal((await alice.client.call('GET', '/api/v1/hosts')).status, 403, 'a tenant user may not read hosts');
});

test('VMs are placed on both hosts; one that fits nowhere is a 409 naming each host; tenants see only their own', { timeout: 20_000 }, async () => {
  const first = await alice.client.call('POST', '/api/v1/vms', newVm(alice, 'web', { disks: [{ sizeGiB: 1 }] }));
  assert.equal(first.status, 201, first.text);
  assert.equal(first.body.state, 'defined');
  vms['web'] = { id: first.body.id, hostId: first.body.hostId };
  const second = await admin.call('POST', '/api/v1/vms', newVm(bob, 'db'));
  assert.equal(second.status, 201, second.text);
  vms['db'] = { id: second.body.id, hostId: second.body.hostId };
  assert.deepEqual(new Set([vms['web']!.hostId, vms['db']!.hostId]), new Set(hostIds), 'placement spreads the VMs over both hosts');
  assert.equal(vms['web']!.hostId, hostIds[1], 'the first goes where most memory is free (host b: 3100 MiB)');

  const onB = await agentClient(agents[1]!, TOKEN).listVms();
  assert.equal(onB.length, 1, 'the VM is defined on its host\'s agent');
  assert.equal(onB[0]!.definition.spec.disks.length, 1);

  const huge = await admin.call('POST', '/api/v1/vms', newVm(alice, 'huge', { memoryMiB: 4095 }));
  assert.equal(huge.status, 409, huge.text);
  assert.match(huge.body.detail, /host-a: .*MiB free/u);
  assert.match(huge.body.detail, /host-b: .*MiB free/u);
  assert.deepEqual(huge.body.rejected?.map((r: { hostName: string }) => r.hostName), ['host-a', 'host-b'], huge.text);
  const taken = await alice.client.call('POST', '/api/v1/vms', newVm(alice, 'web'));
  assert.equal(taken.status, 409, taken.text);

  const mine = await alice.client.call('GET', '/api/v1/vms');
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(mine.body.items.map((vm: { name: string }) => vm.name), ['web']);
  assert.equal((await alice.client.call('GET', `/api/v1/vms/${vms['web']!.id}`)).status, 200);
  const theirs = await alice.client.call('GET', `/api/v1/vms/${vms['db']!.id}`);
  assert.equal(theirs.status, 404, 'another tenant\'s VM does not exist for alice');
  assert.equal((await alice.client.call('POST', `/api/v1/vms/${vms['db']!.id}/start`, {})).status, 404);
  const intoBob = await alice.client.call('POST', '/api/v1/vms', newVm(bob, 'sneaky'));
  assert.equal(intoBob.status, 404, intoBob.text);
  // A tenant boots only files of the master's boot directories, never the host's own files.
  for (const initrd of ['/etc/shadow', `${dirname(kernel)}/../../etc/shadow`]) {
    const secrets = await alice.client.call('POST', '/api/v1/vms', newVm(alice, 'secrets', { boot: { kernel, initrd } }));
    assert.equal(secrets.status, 403, secrets.text);
    assert.equal(secrets.body.field, 'boot.initrd');
  }
  assert.equal((await admin.call('GET', `/api/v1/vms?hostId=${hostIds[0]}`)).body.items.length, 1);
  const refused = await admin.call('DELETE', `/api/v1/hosts/${vms['db']!.hostId}`);
  assert.equal(refused.status, 409, 'a host with VMs placed on it stays');
});

test('a VM started through the master reaches running via its operation; the event stream shows a tenant only its own', { timeout: 30_000 }, async () => {
  const stream = await EventStream.open(alice.client, m.master.certificate.cert);
  try {
    assert.equal(stream.status, 200);
    const started = await alice.client.call('POST', `/api/v1/vms/${vms['web']!.id}/start`, {});
    assert.equal(started.status, 202, started.text);
    assert.equal(started.headers['location'], `/api/v1/operations/${started.body.id}`);
    const again = await alice.client.call('POST', `/api/v1/vms/${vms['web']!.id}/start`, {});
    assert.equal(again.status, 409, 'one operation at a time');
    const done = await alice.client.call('GET', `/api/v1/operations/${started.body.id}?wait=20`);
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.state, 'succeeded', JSON.stringify(done.body));
    assert.equal(done.body.progress, 1);
    assert.equal((await alice.client.call('GET', `/api/v1/vms/${vms['web']!.id}`)).body.state, 'running');

    const other = await admin.call('POST', `/api/v1/vms/${vms['db']!.id}/start`);
    assert.equal(other.status, 202, other.text);
    assert.equal((await bob.client.call('GET', `/api/v1/operations/${other.body.id}?wait=20`)).body.state, 'succeeded');
    assert.equal((await alice.client.call('GET', `/api/v1/operations/${other.body.id}`)).status, 404);
    assert.equal((await admin.call('GET', `/api/v1/vms/${vms['db']!.id}`)).body.state, 'running');

    await eventually('alice to see her VM run', 5000, async () => stream.events.some((e) => e.data.type === 'vm.state' && e.data.id === vms['web']!.id && e.data.data['state'] === 'running'));
    assert.ok(stream.events.some((e) => e.data.type === 'operation.finished' && e.data.id === started.body.id));
    const seen = new Set(stream.events.map((e) => e.data.id));
    assert.ok(!seen.has(vms['db']!.id) && !seen.has(other.body.id), 'nothing of bob\'s VM reaches alice');
    assert.ok(!stream.events.some((e) => e.data.resource === 'host'), 'nor the hosts, which tenants may not read');
  } finally {
    stream.close();
  }
  for (const vm of await agentClient(agents[0]!, TOKEN).listVms()) if (vm.pid !== null) vmPids.add(vm.pid);
});

test('a stopped VM is deleted from its host too', { timeout: 20_000 }, async () => {
  const extra = await alice.client.call('POST', '/api/v1/vms', newVm(alice, 'scratch', { hostId: hostIds[1] }));
  assert.equal(extra.status, 201, extra.text);
  const start = await alice.client.call('POST', `/api/v1/vms/${extra.body.id}/start`, {});
  assert.equal((await alice.client.call('GET', `/api/v1/operations/${start.body.id}?wait=20`)).body.state, 'succeeded');
  const running = await alice.client.call('DELETE', `/api/v1/vms/${extra.body.id}`);
  assert.equal(running.status, 409, 'a running VM is not deleted');
  const stop = await alice.client.call('POST', `/api/v1/vms/${extra.body.id}/stop`, { force: true });
  assert.equal(stop.status, 202, stop.text);
  assert.equal((await alice.client.call('GET', `/api/v1/operations/${stop.body.id}?wait=20`)).body.state, 'succeeded');
  assert.equal((await alice.client.call('GET', `/api/v1/vms/${extra.body.id}`)).body.state, 'stopped');
  const agentName = (await agentClient(agents[1]!, TOKEN).listVms()).length;
  const deleted = await alice.client.call('DELETE', `/api/v1/vms/${extra.body.id}`);
  assert.equal(deleted.status, 204, deleted.text);
  assert.equal((await agentClient(agents[1]!, TOKEN).listVms()).length, agentName - 1, 'gone from the agent');
  assert.equal((await alice.client.call('GET', `/api/v1/vms/${extra.body.id}`)).status, 404);
});

test('a host in maintenance takes no new VMs and stays so; an empty host is unregistered', { timeout: 20_000 }, async () => {
  const b = hostIds[1]!;
  const read = await admin.call('GET', `/api/v1/hosts/${b}`);
  assert.equal((await admin.call('PATCH', `/api/v1/hosts/${b}`, { maintenance: true })).status, 428);
  const on = await admin.call('PATCH', `/api/v1/hosts/${b}`, { maintenance: true }, { 'if-match': read.headers['etag'] as string });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.body.state, 'maintenance');
  assert.match(on.body.stateReason, /root-admin/u);
  const refused = await alice.client.call('POST', '/api/v1/vms', newVm(alice, 'later', { hostId: b }));
  assert.equal(refused.status, 409, refused.text);
  assert.match(refused.body.detail, /host-b: in maintenance/u);
  await new Promise((resolve) => setTimeout(resolve, 4 * HEARTBEAT.intervalMs));
  assert.equal((await admin.call('GET', `/api/v1/hosts/${b}`)).body.state, 'maintenance', 'heartbeats do not end maintenance');
  const off = await admin.call('PATCH', `/api/v1/hosts/${b}`, { maintenance: false }, { 'if-match': on.headers['etag'] as string });
  assert.equal(off.status, 200, off.text);
  assert.equal(off.body.state, 'up');

  const spare = await admin.call('POST', '/api/v1/hosts', { dataCenterId, name: 'host-spare', url: `tcp:127.0.0.1:${agents[1]!.port}`, token: TOKEN });
  assert.equal(spare.status, 201, spare.text);
  const removed = await admin.call('DELETE', `/api/v1/hosts/${spare.body.id}`, undefined, { 'if-match': spare.headers['etag'] as string });
  assert.equal(removed.status, 204, removed.text);
  assert.equal((await admin.call('GET', `/api/v1/hosts/${spare.body.id}`)).status, 404);
  assert.equal(m.master.services.fleet.status(spare.body.id), undefined, 'no longer watched');
});

test('one agent SIGKILLed: the master reports its host down and its VMs unknown, the other host up', { timeout: 20_000 }, async () => {
  const dbHost = vms['db']!.hostId;
  const victim = agents[hostIds.indexOf(dbHost)]!;
  victim.child.kill('SIGKILL');
  await victim.exited;
  const down = await eventually('the host to be reported down', 8000, async () => {
    const host = await admin.call('GET', `/api/v1/hosts/${dbHost}`);
    return host.body.state === 'down' ? host.body : undefined;
  });
  assert.match(down.stateReason, /cannot reach|nothing listens|ECONNREFUSED|ECONNRESET|socket hang up/u);
  const vm = await eventually('its VM to be unknown', 3000, async () => {
    const reply = await admin.call('GET', `/api/v1/vms/${vms['db']!.id}`);
    return reply.body.state === 'unknown' ? reply.body : undefined;
  });
  assert.match(vm.stateReason, /^host down: /u);
  assert.equal((await admin.call('GET', `/api/v1/hosts/${vms['web']!.hostId}`)).body.state, 'up');
  assert.equal((await admin.call('GET', `/api/v1/vms/${vms['web']!.id}`)).body.state, 'running', 'the other host\'s VM is untouched');
  const start = await admin.call('POST', `/api/v1/vms/${vms['db']!.id}/start`);
  assert.equal(start.status, 409, 'nothing is started on a down host');
  const audit = await admin.call('GET', '/api/v1/audit?action=host.down');
  assert.equal(audit.body.items[0]?.target, `host:${dbHost}`);
});
