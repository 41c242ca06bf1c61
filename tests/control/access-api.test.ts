// Deny by default, route by route: every route of the OpenAPI document refuses a role without
// its right (403, or 404 where the target is hidden), with real resources behind each id so a
// refusal cannot come from a missing target instead.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestMaster, type MasterClient, type TestMaster } from '../support/master-client.js';
import { logInAs, makeTenant, makeUser } from '../support/people.js';
import { repositories } from '../../src/control/store/repositories.js';

let m: TestMaster;
let ids: {
  dataCenter: string; tenant: string; otherTenant: string; user: string; binding: string; host: string; vm: string; operation: string;
  physicalLun: string; virtualLun: string; network: string;
};
before(async () => {
  m = await startTestMaster();
  const admin = await m.admin();
  const dataCenter = (await admin.call('POST', '/api/v1/data-centers', { name: 'access-dc' })).body.id as string;
  const tenant = await makeTenant(admin, 'access-tenant');
  const otherTenant = await makeTenant(admin, 'access-other');
  const user = await makeUser(admin, 'access-staff', [{ role: 'operator', scopeKind: 'data-center', scopeId: dataCenter }]);
  // A host with a physical LUN, a VM, virtual LUN and network of the other tenant and an
  // operation on the VM, written to the store directly: no agent is needed for the API to
  // decide who may see them.
  const { host, vm, operation, physicalLun, virtualLun, network } = await m.master.services.store.transaction(async (tx) => {
    const repos = repositories(tx);
    const host = await repos.hosts.create({ data_center_id: dataCenter, name: 'access-host', url: 'tcp:127.0.0.1:9', token_sealed: 'none', cpus: 2, memory_mib: 1024, storage_bytes: 1 << 30 });
    const vm = await repos.virtualMachines.create({ tenant_id: otherTenant, data_center_id: dataCenter, host_id: host.id, name: 'access-vm', cpus: 1, memory_mib: 128, spec: '{}' });
    const operation = await repos.operations.create({ kind: 'vm.start', target_kind: 'vm', target_id: vm.id, user_id: null });
    const physicalLun = await repos.physicalLuns.create({ data_center_id: dataCenter, host_id: host.id, name: 'access-lun', path: '/srv/luns', capacity_bytes: 1 << 30 });
    const virtualLun = await repos.virtualLuns.create({ tenant_id: otherTenant, physical_lun_id: physicalLun.id, name: 'access-disk', size_bytes: 1 << 20 });
    const network = await repos.networks.create({ tenant_id: otherTenant, data_center_id: dataCenter, name: 'access-net', kind: 'switch' });
    return { host: host.id, vm: vm.id, operation: operation.id, physicalLun: physicalLun.id, virtualLun: virtualLun.id, network: network.id };
  });
  ids = { dataCenter, tenant, otherTenant, user: user.id, binding: user.body.roles[0].id, host, vm, operation, physicalLun, virtualLun, network };
});

/** Streams (server-sent events) never end, so the sweeps leave them to tests/control/infra-api.test.ts. */
const STREAMS = new Set(['GET /api/v1/events']);
after(async () => { await m.close(); });

/** What each operation of the document is, as 'METHOD /path'. */
async function operations(): Promise<Array<{ key: string; method: string; path: string }>> {
  const doc = await m.client().call('GET', '/api/openapi.json');
  const found: Array<{ key: string; method: string; path: string }> = [];
  for (const [path, methods] of Object.entries(doc.body.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (Array.isArray(operation.security) && operation.security.length === 0) continue; // public: the login
      found.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path });
    }
  }
  return found;
}

/** The path with real ids: each collection's {id} one of its own, the other tenant's for /tenants when asked. */
function concrete(path: string, tenantId = ids.tenant): string {
  const byPrefix: Array<[string, string]> = [
    ['/api/v1/data-centers', ids.dataCenter], ['/api/v1/tenants', tenantId], ['/api/v1/users', ids.user],
    ['/api/v1/hosts', ids.host], ['/api/v1/vms', ids.vm], ['/api/v1/operations', ids.operation],
    ['/api/v1/physical-luns', ids.physicalLun], ['/api/v1/virtual-luns', ids.virtualLun], ['/api/v1/networks', ids.network],
  ];
  const id = byPrefix.find(([prefix]) => path.startsWith(prefix))?.[1] ?? '00000000-0000-4000-8000-000000000000';
  return path.replace('{id}', id).replace('{bindingId}', ids.binding);
}

async function sweep(client: MasterClient, allowed: Set<string>, tenantId?: string): Promise<number> {
  const all = await operations();
  for (const key of allowed) assert.ok(all.some((o) => o.key === key), `${key} is in the document`);
  let checked = 0;
  for (const { key, method, path } of all) {
    if (allowed.has(key) || STREAMS.has(key)) continue;
    const reply = await client.call(method, concrete(path, tenantId), method === 'GET' || method === 'DELETE' ? undefined : {});
    assert.ok(reply.status === 403 || reply.status === 404, `${key}: ${reply.status} ${reply.text}`);
    if (reply.status === 404) assert.equal(reply.body.kind, 'not-found', key);
    checked++;
  }
  return checked;
}

// Every role manages its own session, second factor and tokens.
const SELF_SERVICE = ['GET /api/v1/session', 'DELETE /api/v1/session', 'POST /api/v1/session/totp', 'POST /api/v1/session/totp/confirmation',
  'GET /api/v1/tokens', 'POST /api/v1/tokens', 'DELETE /api/v1/tokens/{id}'];

test('a global auditor gets 403 from every route that changes anything, but its own credentials', async () => {
  const auditor = await logInAs(m, await makeUser(await m.admin(), 'access-auditor', [{ role: 'auditor', scopeKind: 'global' }]));
  const all = await operations();
  let refused = 0;
  for (const { key, method, path } of all) {
    if (method === 'GET' || SELF_SERVICE.includes(key)) continue;
    const reply = await auditor.call(method, concrete(path), method === 'DELETE' ? undefined : {});
    assert.equal(reply.status, 403, `${key}: ${reply.text}`);
    assert.equal(reply.body.kind, 'forbidden', key);
    refused++;
  }
  assert.ok(refused >= 11, `refused ${refused} routes`);
  for (const { key, path } of all.filter((o) => o.method === 'GET' && !STREAMS.has(o.key))) {
    const reply = await auditor.call('GET', concrete(path));
    // A console is a way in, not a record: auditors read everything else.
    if (key === 'GET /api/v1/vms/{id}/console') assert.equal(reply.status, 403, `an auditor opens no console: ${reply.text}`);
    else assert.equal(reply.status, 200, `an auditor reads ${key}: ${reply.text}`);
  }
});

test('a tenant user gets 403 or 404 from every route outside its own tenant and credentials', async () => {
  const admin = await m.admin();
  const guest = await makeUser(admin, 'access-guest', [{ role: 'tenant-user', scopeKind: 'tenant', scopeId: ids.tenant }], ids.tenant);
  const client = await logInAs(m, guest);
  // Tenant users pick the data center their VMs go to, read their own tenant, and list and
  // create their own VMs, virtual LUNs and networks (the ids here are the other tenant's).
  const own = ['vms', 'virtual-luns', 'networks'].flatMap((path) => [`GET /api/v1/${path}`, `POST /api/v1/${path}`]);
  const allowed = new Set([...SELF_SERVICE, 'GET /api/v1/data-centers', 'GET /api/v1/data-centers/{id}', 'GET /api/v1/tenants', ...own]);
  const checked = await sweep(client, allowed, ids.otherTenant);
  assert.ok(checked >= 15, `checked ${checked} routes`);
  assert.equal((await client.call('GET', `/api/v1/tenants/${ids.otherTenant}`)).status, 404, 'the other tenant is hidden');
  assert.equal((await client.call('GET', `/api/v1/tenants/${ids.tenant}`)).status, 200, 'its own is not');
});

test('the console\'s path in the document answers a plain GET with 426: it is a WebSocket', async () => {
  const reply = await (await m.admin()).call('GET', concrete('/api/v1/vms/{id}/console'));
  assert.equal(reply.status, 426, reply.text);
  assert.equal(reply.body.kind, 'upgrade-required');
});
