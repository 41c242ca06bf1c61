import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HostAgentClient } from './host-agent-client.js';
import { HostLinkError, type HostLinkErrorKind } from './host-link-error.js';
import { AGENT_TOKEN, withAgentServer } from '../../../tests/host/agent-api-server.js';

const TOKEN = 'master-test-token-0123456789';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in agent on TCP whose every answer the test decides. */
async function withAgent(handler: Handler, body: (client: HostAgentClient, seen: string[]) => Promise<void>): Promise<void> {
  const seen: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await body(new HostAgentClient({ address: `tcp:127.0.0.1:${port}`, token: TOKEN, timeoutMs: 2000 }), seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const json = (status: number, value: unknown): Handler => (_req, res) => {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
};

async function rejectsWith(promise: Promise<unknown>, kind: HostLinkErrorKind, message: RegExp, extra: Partial<HostLinkError> = {}): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof HostLinkError, `expected a HostLinkError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    assert.match(e.message, message);
    for (const [key, value] of Object.entries(extra)) assert.equal(e[key as keyof HostLinkError], value, key);
    return true;
  });
}

test('requests carry the bearer token and answers are typed', async () => {
  const info = { cores: 4, memory: { budgetMiB: 7000 }, storage: { free: 10 }, vms: { total: 0, byState: {} } };
  await withAgent(json(200, info), async (client, seen) => {
    assert.equal((await client.hostInfo()).cores, 4);
    assert.deepEqual(seen, [`GET /host Bearer ${TOKEN}`]);
  });
});

const FAILURES: { name: string; handler: Handler; kind: HostLinkErrorKind; message: RegExp; extra?: Partial<HostLinkError> }[] = [
  { name: '401 is unauthorized', handler: json(401, { error: { kind: 'unauthorized', message: 'a bearer token is required' } }), kind: 'unauthorized', message: /refused the master's token \(GET \/vms\/web\)/, extra: { status: 401 } },
  {
    name: 'another 4xx is refused, with the agent\'s kind and message', handler: json(409, { error: { kind: 'invalid-state', message: 'cannot delete VM web: it is running' } }),
    kind: 'refused', message: /GET \/vms\/web: cannot delete VM web: it is running \(invalid-state\)$/, extra: { status: 409, agentKind: 'invalid-state', request: 'GET /vms/web' },
  },
  { name: '5xx is agent-error', handler: json(502, { error: { kind: 'vm-unreachable', message: 'the VM does not answer' } }), kind: 'agent-error', message: /the VM does not answer/, extra: { status: 502, agentKind: 'vm-unreachable' } },
  { name: 'not JSON is bad-response', handler: (_req, res) => res.writeHead(200).end('<html>'), kind: 'bad-response', message: /not JSON/ },
  { name: 'no answer in time is timeout', handler: () => {}, kind: 'timeout', message: /GET \/vms\/web: no answer within 2000 ms/ },
];

for (const c of FAILURES) {
  test(`HostLinkError: ${c.name}`, async () => {
    await withAgent(c.handler, async (client) => rejectsWith(client.getVm('web'), c.kind, c.message, c.extra));
  });
}

test('HostLinkError: an answer not shaped as the API says is bad-response', async () => {
  await withAgent(json(200, { hello: 1 }), async (client) => {
    await rejectsWith(client.hostInfo(), 'bad-response', /GET \/host with something that is not what its API describes/);
    await rejectsWith(client.listVms(), 'bad-response', /GET \/vms/);
  });
});

test('HostLinkError: the caller giving up is timeout, with its reason', async () => {
  await withAgent(() => {}, async (client) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('the master is shutting down')), 50);
    await rejectsWith(client.hostInfo({ signal: controller.signal }), 'timeout', /given up: the master is shutting down/);
  });
});

test('HostLinkError: nothing listening is unreachable; a bad address or a TCP agent without a token is refused at once', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  await rejectsWith(new HostAgentClient({ address: `http://127.0.0.1:${port}`, token: TOKEN }).hostInfo(), 'unreachable', /nothing listens on it/);
  await rejectsWith(new HostAgentClient({ address: '/nonexistent/agent.sock' }).hostInfo(), 'unreachable', /no such socket/);
  assert.throws(() => new HostAgentClient({ address: 'tcp:127.0.0.1:7070' }), /give the client its bearer token/);
  assert.throws(() => new HostAgentClient({ address: 'agent.example:7070' }), /not a host agent address/);
});

test('snapshotVm follows the agent\'s operation to its end; a failed operation is agent-error', async () => {
  const running = { id: 'op1', kind: 'save' as const, state: 'running' as const, progress: null, revision: 0, startedAt: 'now' };
  let polls = 0;
  const handler: Handler = (req, res) => {
    if (req.method === 'POST') return json(202, running)(req, res);
    polls++;
    const op = polls === 1 ? { ...running, revision: 1, progress: { phase: 'memory', done: 1, total: 2 } }
      : { ...running, id: /op[12]/.exec(req.url!)![0], revision: 2, state: req.url!.includes('op2') ? 'failed' : 'succeeded', result: { path: '/s.vmsnap' }, error: { kind: 'io', message: 'disk full' } };
    json(200, op)(req, res);
  };
  await withAgent(handler, async (client, seen) => {
    const changes: string[] = [];
    const op = await client.snapshotVm('web', { resume: true }, { onProgress: (o) => changes.push(`${o.state} ${o.revision}`) });
    assert.equal(op.state, 'succeeded');
    assert.deepEqual(op.result, { path: '/s.vmsnap' });
    assert.deepEqual(changes, ['running 0', 'running 1', 'succeeded 2']);
    assert.match(seen[1]!, /^GET \/operations\/op1\?wait=30&after=0 /);
    polls = 1;
    await rejectsWith(client.waitOperation({ ...running, id: 'op2' }), 'agent-error', /the save operation op2 .* failed: disk full/, { agentKind: 'io' });
  });
});

test('console gives the WebSocket URL and the token to open it with', () => {
  const tcp = new HostAgentClient({ address: 'tcp:10.0.0.5:7070', token: TOKEN });
  assert.deepEqual(tcp.console('web'), { url: 'ws://10.0.0.5:7070/vms/web/console', headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.deepEqual(new HostAgentClient({ address: 'unix:/srv/vireo/agent.sock' }).console('db'), { url: 'ws+unix:/srv/vireo/agent.sock:/vms/db/console', headers: {} });
});

test('physical LUNs and volumes through a real agent: add, list, create, attach, refuse, delete, forget', () => withAgentServer(async ({ server, dir }) => {
  const client = new HostAgentClient({ address: `tcp:127.0.0.1:${server.tcp!.port}`, token: AGENT_TOKEN, timeoutMs: 5000 });
  const lunDir = `${dir}-fast`;
  try {
    const added = await client.addLun({ name: 'fast', path: lunDir, capacityBytes: 64 * 1024 * 1024, overcommitRatio: 2 });
    assert.deepEqual([added.name, added.path, added.usage.provisionLimit, added.volumes], ['fast', lunDir, 128 * 1024 * 1024, 0]);
    assert.deepEqual((await client.listLuns()).map((l) => l.name), ['default', 'fast']);
    const volume = await client.createVolume('fast', { name: 'home', sizeMiB: 2 });
    assert.deepEqual([volume.lun, volume.sizeBytes, volume.usedBy], ['fast', 2 * 1024 * 1024, null]);
    const vm = await client.defineVm({ name: 'web', spec: { ramMiB: 64, boot: { kernel: '/k' }, network: 'user', disks: [{ volume: { lun: 'fast', name: 'home' } }] } });
    assert.deepEqual(vm.definition.spec.disks[0]!.volume, { lun: 'fast', name: 'home' });
    assert.equal(vm.definition.spec.network, 'user');
    assert.deepEqual((await client.listVolumes('fast')).map((v) => [v.name, v.usedBy]), [['home', 'web']]);
    await rejectsWith(client.deleteVolume('fast', 'home'), 'refused', /attached to VM web/, { status: 409, agentKind: 'invalid-state', request: 'DELETE /luns/fast/volumes/home' });
    await rejectsWith(client.removeLun('fast'), 'refused', /VM web attaches volumes of physical LUN fast/, { status: 409, agentKind: 'invalid-state' });
    await rejectsWith(client.createVolume('fast', { name: 'big', sizeMiB: 1024 }), 'refused', /past the limit/, { agentKind: 'over-budget' });
    await rejectsWith(client.listVolumes('slow'), 'refused', /no physical LUN named slow/, { status: 404, agentKind: 'not-found' });
    await client.deleteVm('web', { disks: true });
    assert.equal(await client.deleteVolume('fast', 'home'), undefined);
    assert.deepEqual(await client.listVolumes('fast'), []);
    assert.equal(await client.removeLun('fast'), undefined);
    assert.deepEqual((await client.listLuns()).map((l) => l.name), ['default']);
  } finally {
    rmSync(lunDir, { recursive: true, force: true });
  }
}));

test('HostLinkError: a LUN list not shaped as the API says is bad-response', async () => {
  await withAgent(json(200, { luns: [{ name: 'x' }] }), async (client) => {
    await rejectsWith(client.listLuns(), 'bad-response', /GET \/luns with something/);
    await rejectsWith(client.listVolumes('x'), 'bad-response', /GET \/luns\/x\/volumes with something/);
  });
});
