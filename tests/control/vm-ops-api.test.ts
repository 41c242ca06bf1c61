// Snapshots and live migration through the master, end to end on two real host agents: a VM
// started through the master is snapshotted by its tenant (the file on its agent's side), moved
// live to the other host by an administrator, and refused a move a tenant user asks for, one to
// a host of another data center and one to a host that is down.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runLogin } from '../../src/cli/commands/login.js';
import { runResource } from '../../src/cli/master/resource-command.js';
import { VMS } from '../../src/cli/master/resources.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { AgentProcess, eventually, IDLE_KERNEL, stopAgents } from '../support/agent-process.js';
import { agentClient, vmPidsOn } from '../support/master-agents.js';
import { ADMIN, ADMIN_PASSWORD, startTestMaster, type MasterClient, type TestMaster } from '../support/master-client.js';
import { tenantWithUser, type TenantUser } from '../support/tenant-user.js';

const TOKEN = 'master-vm-ops-api-token-0123456789';
const HEARTBEAT = { intervalMs: 250, requestTimeoutMs: 500, downAfterMs: 1500, reconcileEveryMs: 500 };

let m: TestMaster;
let dir: string;
const agents: AgentProcess[] = [];
const vmPids = new Set<number>();
let admin: MasterClient;
let alice: TenantUser;
let dataCenterId: string;
const hostIds: string[] = [];
let vmId: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-vm-ops-api-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const kernel = join(dir, 'idle.bin');
  await writeFile(kernel, IDLE_KERNEL);
  m = await startTestMaster({ heartbeat: HEARTBEAT, bootDirs: [dir] });
  agents.push(...await Promise.all([0, 1].map((i) => AgentProcess.start(join(dir, `agent-${i}`), tokenFile, ['--memory-budget', String(3000 + 100 * i)]))));
  admin = await m.admin();
  alice = await tenantWithUser(m, 'tenant-alice', 'alice');
  const dc = await admin.call('POST', '/api/v1/data-centers', { name: 'dc-ops' });
  assert.equal(dc.status, 201, dc.text);
  dataCenterId = dc.body.id;
  for (const [i, agent] of agents.entries()) {
    const host = await admin.call('POST', '/api/v1/hosts', { dataCenterId, name: `host-${'ab'[i]}`, url: `tcp:127.0.0.1:${agent.port}`, token: TOKEN });
    assert.equal(host.status, 201, host.text);
    hostIds.push(host.body.id);
  }
  const vm = await alice.client.call('POST', '/api/v1/vms', { tenantId: alice.tenantId, dataCenterId, name: 'web', cpus: 1, memoryMiB: 16, boot: { kernel }, hostId: hostIds[0] });
  assert.equal(vm.status, 201, vm.text);
  vmId = vm.body.id;
});

after(async () => {
  for (const pid of await vmPidsOn(agents, TOKEN)) vmPids.add(pid);
  await m?.close();
  await stopAgents(agents, [...vmPids]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});


async function finished(client: MasterClient, reply: { status: number; text: string; body: { id: string } }) {
  assert.equal(reply.status, 202, reply.text);
  const done = await client.call('GET', `/api/v1/operations/${reply.body.id}?wait=20`);
  assert.equal(done.status, 200, done.text);
  return done.body as { state: string; progress: number; message: string; error: unknown };
}

test('a stopped VM is not snapshotted; a running one is, by its tenant, into its agent\'s data directory', { timeout: 20_000 }, async () => {
  const early = await alice.client.call('POST', `/api/v1/vms/${vmId}/snapshot`, {});
  assert.equal(early.status, 409, early.text);
  assert.match(early.body.detail, /is defined/u);
  assert.equal((await finished(alice.client, await alice.client.call('POST', `/api/v1/vms/${vmId}/start`, {}))).state, 'succeeded');
  for (const vm of await agentClient(agents[0]!, TOKEN).listVms()) if (vm.pid !== null) vmPids.add(vm.pid);

  const escape = await alice.client.call('POST', `/api/v1/vms/${vmId}/snapshot`, { name: 'before', path: '/etc/evil.vmsnap' });
  assert.equal(escape.status, 400, 'a path is never taken from the caller');
  const snap = await alice.client.call('POST', `/api/v1/vms/${vmId}/snapshot`, { name: 'before-move' });
  assert.equal(snap.headers['location'], `/api/v1/operations/${snap.body.id}`);
  const done = await finished(alice.client, snap);
  assert.equal(done.state, 'succeeded', JSON.stringify(done));
  assert.equal(done.progress, 1);
  const match = /^snapshot before-move of web saved on host host-a at (\S+\.vmsnap) \(\d+ bytes\)$/u.exec(done.message);
  assert.ok(match !== null, done.message);
  const path = match[1]!;
  assert.ok(path.startsWith(join(dir, 'agent-0')), `${path} is under the agent's data directory`);
  assert.ok(existsSync(path), 'the snapshot file exists on the agent\'s side');
  assert.equal((await alice.client.call('GET', `/api/v1/vms/${vmId}`)).body.state, 'running', 'the VM runs on after its snapshot');
  const audit = await admin.call('GET', '/api/v1/audit?action=vm.snapshot');
  assert.equal(audit.body.items[0]?.target, `vm:${vmId}`);
});

test('a tenant user may not migrate; a host of another data center is refused', { timeout: 20_000 }, async () => {
  const byTenant = await alice.client.call('POST', `/api/v1/vms/${vmId}/migrate`, { hostId: hostIds[1] });
  assert.equal(byTenant.status, 403, byTenant.text);

  const dc = await admin.call('POST', '/api/v1/data-centers', { name: 'dc-elsewhere' });
  const elsewhere = await admin.call('POST', '/api/v1/hosts', { dataCenterId: dc.body.id, name: 'host-elsewhere', url: `tcp:127.0.0.1:${agents[1]!.port}`, token: TOKEN });
  assert.equal(elsewhere.status, 201, elsewhere.text);
  const across = await admin.call('POST', `/api/v1/vms/${vmId}/migrate`, { hostId: elsewhere.body.id });
  assert.equal(across.status, 409, across.text);
  assert.match(across.body.detail, /not a host of the VM's data center/u);
  const removed = await admin.call('DELETE', `/api/v1/hosts/${elsewhere.body.id}`);
  assert.equal(removed.status, 204, removed.text);
  const here = await admin.call('POST', `/api/v1/vms/${vmId}/migrate`, { hostId: hostIds[0] });
  assert.equal(here.status, 409, here.text);
  assert.match(here.body.detail, /already on host host-a/u);
});

test('a running VM migrates live to the other host: the master records its new host, the agents agree', { timeout: 30_000 }, async () => {
  const [source, destination] = agents as [AgentProcess, AgentProcess];
  const [agentVm] = await agentClient(source, TOKEN).listVms();
  assert.ok(agentVm !== undefined);
  // A VM of the same name on the destination: its agent refuses to receive, and the VM stays.
  await agentClient(destination, TOKEN).defineVm({ name: agentVm.name, spec: agentVm.definition.spec });
  const failed = await finished(admin, await admin.call('POST', `/api/v1/vms/${vmId}/migrate`, { hostId: hostIds[1] }));
  assert.equal(failed.state, 'failed', JSON.stringify(failed));
  assert.match(failed.message, /already exists/u, 'the agent\'s reason');
  const stayed = await admin.call('GET', `/api/v1/vms/${vmId}`);
  assert.deepEqual([stayed.body.hostId, stayed.body.state], [hostIds[0], 'running'], 'a failed migration leaves the VM where it was');
  assert.equal((await agentClient(source, TOKEN).getVm(agentVm.name)).state, 'running');
  await agentClient(destination, TOKEN).deleteVm(agentVm.name);

  const moved = await finished(admin, await admin.call('POST', `/api/v1/vms/${vmId}/migrate`, { hostId: hostIds[1] }));
  assert.equal(moved.state, 'succeeded', JSON.stringify(moved));
  assert.match(moved.message, /^running on host host-b \(from host host-a\)$/u);
  const vm = await alice.client.call('GET', `/api/v1/vms/${vmId}`);
  assert.equal(vm.body.hostId, hostIds[1]);
  assert.equal(vm.body.state, 'running');
  await eventually('the source agent to let the VM go', 5000, async () => !(await agentClient(source, TOKEN).listVms()).some((v) => v.name === agentVm.name));
  const there = (await agentClient(destination, TOKEN).listVms()).find((v) => v.name === agentVm.name);
  assert.equal(there?.state, 'running', 'the destination agent runs it');
  if (there?.pid !== null && there?.pid !== undefined) vmPids.add(there.pid);
  const audit = await admin.call('GET', '/api/v1/audit?action=vm.migrated');
  assert.equal(audit.body.items[0]?.target, `vm:${vmId}`);
  await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT.reconcileEveryMs));
  const later = await admin.call('GET', `/api/v1/vms/${vmId}`);
  assert.deepEqual([later.body.hostId, later.body.state], [hostIds[1], 'running'], 'heartbeats agree with the move');
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stderrIsTty: false }, out: () => out.join(''), err: () => err.join('') };
}

test('vireo vm migrate --host NAME moves it back, vireo vm snapshot saves it', { timeout: 30_000 }, async () => {
  process.env['XDG_CONFIG_HOME'] = join(dir, 'home');
  const passwordFile = join(dir, 'admin-password');
  await writeFile(passwordFile, `${ADMIN_PASSWORD}\n`);
  const login = capture();
  const code = m.clock.nextTotp(m.totpSecret);
  assert.equal(await runLogin([m.master.url, '--name', ADMIN, '--password-file', passwordFile, '--totp', code, '--fingerprint', m.master.certificate.fingerprintSha256], login.io), 0, login.err());

  await assert.rejects(runResource(VMS, ['migrate', 'web'], capture().io), UsageError, 'migrate needs --host');
  const back = capture();
  assert.equal(await runResource(VMS, ['migrate', 'web', '--host', 'host-a'], back.io), 0, back.err());
  assert.match(back.err(), /migrate: succeeded 100% running on host host-a \(from host host-b\)/u);
  assert.equal((await admin.call('GET', `/api/v1/vms/${vmId}`)).body.hostId, hostIds[0]);
  const snap = capture();
  assert.equal(await runResource(VMS, ['snapshot', 'web', '--name', 'after-return', '--json'], snap.io), 0, snap.err());
  const op = JSON.parse(snap.out()) as { state: string; message: string };
  assert.equal(op.state, 'succeeded');
  assert.match(op.message, /^snapshot after-return of web saved on host host-a at /u);
});

test('migration to a host that is down is refused with its reason', { timeout: 20_000 }, async () => {
  const victim = agents[1]!;
  victim.child.kill('SIGKILL');
  await victim.exited;
  await eventually('host b to be down', 8000, async () => (await admin.call('GET', `/api/v1/hosts/${hostIds[1]}`)).body.state === 'down');
  const refused = await admin.call('POST', `/api/v1/vms/${vmId}/migrate`, { hostId: hostIds[1] });
  assert.equal(refused.status, 409, refused.text);
  assert.match(refused.body.detail, /host-b: down/u);
  const vm = await admin.call('GET', `/api/v1/vms/${vmId}`);
  assert.deepEqual([vm.body.hostId, vm.body.state], [hostIds[0], 'running'], 'the VM stays where it is');
});
