import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { WebSocket } from 'ws';
import { VmApiClient, VmApiClientError } from '../../vm/api/vm-api-client.js';
import { hostApiRoutes } from './host-routes.js';
import { AGENT_TOKEN, withAgentServer } from '../../../tests/host/agent-api-server.js';

const spec = { ramMiB: 64, boot: { kernel: '/nonexistent/k.elf' } };

test('the Unix socket is mode 0600 and needs no token; TCP answers 401 without the right token', () => withAgentServer(async ({ server, unix, tcp }) => {
  assert.equal(statSync(server.socketPath).mode & 0o777, 0o600);
  assert.equal((await unix.request('GET', '/host')).status, 200);
  const none = await tcp().request('GET', '/host');
  assert.equal(none.status, 401);
  assert.equal((none.body as { error: { kind: string } }).error.kind, 'unauthorized');
  assert.equal(none.headers['www-authenticate'], 'Bearer');
  assert.equal((await tcp('not-the-token-not-the-token-xx').request('GET', '/vms')).status, 401);
  assert.equal((await tcp(AGENT_TOKEN).request('POST', '/vms', { name: 'x', spec })).status, 201);
  assert.equal((await tcp(AGENT_TOKEN).request('GET', '/vms/x')).status, 200);
}));

test('VMs are defined, listed, started, paused, stopped and deleted through the API; errors have one shape', () => withAgentServer(async ({ unix }) => {
  const defined = await unix.request('POST', '/vms', { name: 'web', spec, autostart: true });
  assert.equal(defined.status, 201);
  assert.equal(defined.headers['location'], '/vms/web');
  assert.equal((await unix.request('POST', '/vms', { name: 'web', spec })).status, 409);
  const bad = await unix.request('POST', '/vms', { name: 'web2', spec: { ...spec, ramMiB: 'lots' } });
  assert.equal(bad.status, 400);
  assert.match((bad.body as { error: { message: string } }).error.message, /body\.spec\.ramMiB: must be an integer/);
  assert.equal((await unix.request('GET', '/vms/nope')).status, 404);
  assert.equal((await unix.request('PUT', '/vms')).status, 405);
  assert.equal((await unix.call<{ state: string }>('POST', '/vms/web/start')).state, 'running');
  assert.equal((await unix.call<{ state: string }>('POST', '/vms/web/pause')).state, 'paused');
  assert.equal((await unix.call<{ state: string }>('POST', '/vms/web/resume')).state, 'running');
  const stats = await unix.call<{ state: string; status: { instructionsRetired: number }; vm: unknown }>('GET', '/vms/web/stats');
  assert.equal(stats.state, 'running');
  assert.equal(stats.status.instructionsRetired, 123_456);
  assert.equal((await unix.request('DELETE', '/vms/web')).status, 409);
  assert.equal((await unix.call<{ state: string }>('POST', '/vms/web/stop', { timeoutSeconds: 2 })).state, 'stopped');
  assert.deepEqual(await unix.call('DELETE', '/vms/web?disks=true'), { deleted: 'web' });
  assert.deepEqual(await unix.call('GET', '/vms'), { vms: [] });
}));

test('limits are stored and their fate reported; an unknown disk is 404', () => withAgentServer(async ({ unix }) => {
  await unix.call('POST', '/vms', { name: 'db', spec: { ...spec, disks: [{ sizeMiB: 1 }] } });
  const answer = await unix.call<{ vm: { definition: { spec: { cpu: { weight: number }; disks: Array<{ limits: object }> } } }; applied: { disks: Record<string, string> } }>('PUT', '/vms/db/limits', { cpu: { weight: 50 }, disks: { 'vireo-disk-0': { iops: 10 } } });
  assert.equal(answer.vm.definition.spec.cpu.weight, 50);
  assert.deepEqual(answer.vm.definition.spec.disks[0]!.limits, { iops: 10 });
  assert.equal(answer.applied.disks['vireo-disk-0'], 'stored');
  assert.equal((await unix.request('PUT', '/vms/db/limits', { disks: { 'vireo-disk-9': {} } })).status, 404);
  assert.equal((await unix.request('PUT', '/vms/db/limits', { disks: { 'vireo-disk-0': { iops: -1 } } })).status, 400);
}));

test('a snapshot is an operation that ends with the VM\'s result, and the definition follows the VM onto its overlays', () => withAgentServer(async ({ agent, unix }) => {
  await unix.call('POST', '/vms', { name: 'snap', spec: { ...spec, disks: [{ path: '/img/root.qcow2' }] } });
  await unix.call('POST', '/vms/snap/start');
  const answer = await unix.request('POST', '/vms/snap/snapshot', { path: '/tmp/never-written.vmsnap' });
  assert.equal(answer.status, 202);
  const op = answer.body as { id: string; kind: string };
  assert.equal(op.kind, 'save');
  assert.equal((await unix.request('POST', '/vms/snap/snapshot', {})).status, 409);
  // The fake VM's save is finished by the test.
  const fake = (agent.get('snap').process as unknown as { controller: { nextAction(): Promise<{ path?: string; succeed(r: object): void }> } }).controller;
  const action = await fake.nextAction();
  assert.equal(action.path, '/tmp/never-written.vmsnap');
  // As a VM does when it runs on after a save: its disk is now an overlay over the saved image.
  Object.assign(fake as object, { config: { disks: [{ path: '/img/root.qcow2.after-never-written.vmsnap', format: 'qcow2' }] } });
  action.succeed({ bytes: 42 });
  const ended = await unix.call<{ state: string; result: Record<string, unknown> }>('GET', `/operations/${op.id}?wait=5`);
  assert.equal(ended.state, 'succeeded');
  assert.deepEqual(ended.result, { vm: 'snap', bytes: 42, path: '/tmp/never-written.vmsnap' });
  const disk = agent.get('snap').definition.spec.disks[0]!;
  assert.deepEqual([disk.path, disk.format], ['/img/root.qcow2.after-never-written.vmsnap', 'qcow2'], 'a later cold start uses the overlay');
}));

test('the console WebSocket shows the tail, then output, and types input; TCP needs the token here too', () => withAgentServer(async ({ agent, server, unix }) => {
  await unix.call('POST', '/vms', { name: 'tty', spec });
  await unix.call('POST', '/vms/tty/start');
  agent.get('tty').console.write(Buffer.from('login: '));
  const url = `ws://127.0.0.1:${server.tcp!.port}/vms/tty/console`;
  const refused = new WebSocket(url);
  const status = await new Promise<number>((resolve) => refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  assert.equal(status, 401);
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${AGENT_TOKEN}` } });
  let seen = '';
  ws.on('message', (data: Buffer) => { seen += data.toString('utf8'); });
  await new Promise((resolve) => ws.on('open', resolve));
  ws.send('root\n');
  for (let i = 0; i < 100 && !seen.includes('ROOT'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen, 'login: ROOT\n');
  ws.close();
  assert.equal((await unix.request('GET', '/vms/tty/console')).status, 426);
  const upgradeStatus = async (path: string) => {
    const socket = new WebSocket(`ws+unix:${server.socketPath}:${path}`);
    return new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  };
  assert.equal(await upgradeStatus('/vms/nope/console'), 404);
  assert.equal(await upgradeStatus('/vms'), 404);
  await unix.call('POST', '/vms/tty/stop', { force: true });
  assert.equal(await upgradeStatus('/vms/tty/console'), 409, 'a stopped VM has no console');
}));

test('the OpenAPI document lists exactly the routes the server answers', () => withAgentServer(async ({ agent, unix }) => {
  const document = await unix.call<{ info: { title: string }; paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json');
  assert.equal(document.info.title, 'Vireo host agent API');
  const declared = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  const served = hostApiRoutes(agent).routes.map((r) => `${r.method} ${r.path}`).sort();
  assert.deepEqual(declared, served);
  for (const route of ['POST /vms', 'DELETE /vms/{name}', 'GET /vms/{name}/console', 'POST /vms/incoming', 'GET /host', 'GET /operations/{id}']) assert.ok(declared.includes(route), route);
}));

test('an unreachable agent is an error that says so', async () => {
  const client = new VmApiClient('/nonexistent/agent.sock', { unreachableHint: 'start one with vireo host serve' });
  await assert.rejects(client.call('GET', '/host'), (e: unknown) => e instanceof VmApiClientError && e.kind === 'unreachable' && /vireo host serve/.test(e.message));
});

test('limits reach a running VM through its API, and its own statistics come back in the stats', () => withAgentServer(async ({ agent, unix }) => {
  await unix.call('POST', '/vms', { name: 'busy', spec: { ...spec, disks: [{ sizeMiB: 1 }], cpu: { capPercent: 40 } } });
  await unix.call('POST', '/vms/busy/start');
  const child = agent.get('busy').process as unknown as { contractCalls: Array<{ method: string; path: string; body: unknown }> };
  assert.deepEqual(child.contractCalls, [{ method: 'PUT', path: '/vm/cpu', body: { capPercent: 40 } }], 'the cap is applied at start');
  const answer = await unix.call<{ applied: { cpu: { weight: string; capPercent: string }; disks: Record<string, string> } }>('PUT', '/vms/busy/limits', { cpu: { capPercent: null, weight: 25 }, disks: { 'vireo-disk-0': { bps: 1000 } } });
  // Alone on the host, without a cap, the VM may use all its hart.
  assert.equal(answer.applied.cpu.capPercent, 'applied: effective cap none');
  assert.equal(answer.applied.cpu.weight, 'applied');
  const pid = agent.get('busy').process!.pid;
  assert.equal(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16], '0', 'the weight is no nice value: the process keeps nice 0');
  assert.equal(answer.applied.disks['vireo-disk-0'], 'applied');
  assert.deepEqual(child.contractCalls.slice(1), [
    { method: 'PUT', path: '/vm/cpu', body: { capPercent: null } },
    { method: 'PUT', path: '/vm/disks/vireo-disk-0/limits', body: { bps: 1000 } },
  ]);
  const stats = await unix.call<{ vm: { cpu: { instructionsRetired: number } }; rssBytes: number | null; cpu: unknown; diskLimits: unknown }>('GET', '/vms/busy/stats');
  assert.equal(stats.vm.cpu.instructionsRetired, 123_456);
  assert.deepEqual(stats.cpu, { weight: 25, capPercent: null, effectiveCapPercent: null, usedPercent: 0 });
  assert.deepEqual(stats.diskLimits, { 'vireo-disk-0': { bps: 1000 } });
}));
