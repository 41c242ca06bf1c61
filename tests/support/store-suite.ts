// The master store's conformance suite: the same tests against every database the master runs
// on. A test file calls registerStoreSuite with a way to get an empty database.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store, type StoreTarget } from '../../src/control/store/open-store.js';
import { repositories, type Repositories } from '../../src/control/store/repositories.js';
import type { StoreDialect } from '../../src/control/store/store-dialect.js';
import type { StoreErrorKind } from '../../src/control/store/store-error.js';
import { registerAuditTests } from './store-suite-audit.js';
import { registerRelationTests } from './store-suite-relations.js';

export interface StoreSuiteOptions {
  dialect: StoreDialect;
  /** An empty database, new for each test; the previous test's stores are closed by then. */
  emptyTarget(): Promise<StoreTarget>;
}

export type WithStore = (body: (store: Store, r: Repositories, target: StoreTarget) => Promise<void>) => () => Promise<void>;

/** Asserts that `promise` fails with a StoreError of `kind` (and the given context fields). */
export async function rejectsWith(promise: Promise<unknown>, kind: StoreErrorKind, context: Record<string, unknown> = {}): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const e = error as { name?: string; kind?: string; context?: Record<string, unknown> };
    assert.equal(e.name, 'StoreError', `expected a StoreError, got ${String(error)}`);
    assert.equal(e.kind, kind, `expected kind ${kind}: ${String(error)}`);
    for (const [key, value] of Object.entries(context)) assert.deepEqual(e.context?.[key], value, `context.${key}`);
    return true;
  });
}

/** A data center with one host, and a tenant: what most rows hang from. */
export async function seed(r: Repositories) {
  const dc = await r.dataCenters.create({ name: 'dc1', description: 'first' });
  const host = await r.hosts.create({ data_center_id: dc.id, name: 'host1', url: 'tcp:10.0.0.1:7000', token_sealed: 'sealed', cpus: 8, memory_mib: 16384, storage_bytes: 2 ** 40 + 1 });
  const tenant = await r.tenants.create({ name: 'acme' });
  return { dc, host, tenant };
}

export function vmInput(tenantId: string, dataCenterId: string, name: string, hostId: string | null = null) {
  return { tenant_id: tenantId, data_center_id: dataCenterId, host_id: hostId, name, cpus: 1, memory_mib: 256, spec: '{"disks":[]}' };
}

export function registerStoreSuite(options: StoreSuiteOptions): void {
  const withStore: WithStore = (body) => async () => {
    const target = await options.emptyTarget();
    const store = await openStore(target);
    try {
      await body(store, repositories(store.db), target);
    } finally {
      await store.close();
    }
  };
  const name = (title: string) => `${options.dialect}: ${title}`;

  test(name('migrations build the schema on an empty database, and reopening keeps the data and migrates nothing again'), async () => {
    const target = await options.emptyTarget();
    const first = await openStore(target);
    let dcId: string;
    try {
      assert.equal(first.dialect, options.dialect);
      dcId = (await repositories(first.db).dataCenters.create({ name: 'dc1' })).id;
    } finally {
      await first.close();
    }
    const again = await openStore(target);
    try {
      assert.equal((await repositories(again.db).dataCenters.get(dcId)).name, 'dc1');
      const applied = await again.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      assert.deepEqual(applied, [{ name: '001-initial' }, { name: '002-totp-pending' }]);
    } finally {
      await again.close();
    }
  });

  test(name('a data center is created, read by id and name, updated and deleted'), withStore(async (_store, r) => {
    const dc = await r.dataCenters.create({ name: 'east', description: 'first' });
    assert.equal(dc.version, 1);
    assert.match(dc.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(await r.dataCenters.get(dc.id), dc);
    assert.deepEqual(await r.dataCenters.getByName('east'), dc);
    const updated = await r.dataCenters.update(dc.id, 1, { description: 'renamed' });
    assert.equal(updated.version, 2);
    assert.equal(updated.description, 'renamed');
    assert.ok(updated.updated_at >= dc.updated_at);
    assert.equal(updated.created_at, dc.created_at);
    await r.dataCenters.delete(dc.id);
    await rejectsWith(r.dataCenters.get(dc.id), 'not-found', { entity: 'data center', id: dc.id });
    await rejectsWith(r.dataCenters.getByName('east'), 'not-found', { name: 'east' });
    await rejectsWith(r.dataCenters.delete(dc.id), 'not-found');
    await rejectsWith(r.dataCenters.update(dc.id, 2, { description: 'x' }), 'not-found');
  }));

  test(name('a stale version is a version-conflict and changes nothing; the current version succeeds'), withStore(async (_store, r) => {
    const { host } = await seed(r);
    await r.hosts.update(host.id, 1, { state: 'up', state_reason: '' });
    await rejectsWith(r.hosts.update(host.id, 1, { state: 'maintenance' }), 'version-conflict', { expectedVersion: 1, actualVersion: 2 });
    assert.equal((await r.hosts.get(host.id)).state, 'up');
    const next = await r.hosts.update(host.id, 2, { state: 'maintenance', state_reason: 'by admin' });
    assert.deepEqual([next.state, next.version], ['maintenance', 3]);
  }));

  test(name('two concurrent updates from the same version: exactly one wins'), withStore(async (store, r) => {
    const { tenant, dc } = await seed(r);
    const vm = await r.virtualMachines.create(vmInput(tenant.id, dc.id, 'web'));
    const results = await Promise.allSettled([2, 4].map((cpus) => store.transaction((tx) => repositories(tx).virtualMachines.update(vm.id, 1, { cpus }))));
    assert.deepEqual(results.map((x) => x.status).sort(), ['fulfilled', 'rejected']);
    const loser = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
    assert.equal((loser.reason as { kind: string }).kind, 'version-conflict');
    assert.equal((await r.virtualMachines.get(vm.id)).version, 2);
  }));

  test(name('unique names are conflicts naming the field; scoped names may repeat in another scope'), withStore(async (_store, r) => {
    const { dc, host, tenant } = await seed(r);
    const other = await r.tenants.create({ name: 'globex' });
    await rejectsWith(r.dataCenters.create({ name: 'dc1' }), 'conflict', { field: 'name', entity: 'data center' });
    await rejectsWith(r.tenants.create({ name: 'acme' }), 'conflict', { field: 'name' });
    await rejectsWith(r.hosts.create({ ...host, name: 'host1' }), 'conflict', { field: 'name' });
    await r.users.create({ name: 'alice', password_hash: 'h' });
    await rejectsWith(r.users.create({ name: 'alice', password_hash: 'h', tenant_id: tenant.id }), 'conflict', { field: 'name' });
    await r.virtualMachines.create(vmInput(tenant.id, dc.id, 'web'));
    await rejectsWith(r.virtualMachines.create(vmInput(tenant.id, dc.id, 'web')), 'conflict', { field: 'name', fields: ['tenant_id', 'name'] });
    await r.virtualMachines.create(vmInput(other.id, dc.id, 'web'));
    const plun = await r.physicalLuns.create({ data_center_id: dc.id, host_id: host.id, name: 'pool', path: '/srv/pool', capacity_bytes: 2 ** 42 });
    await rejectsWith(r.physicalLuns.create({ data_center_id: dc.id, host_id: host.id, name: 'pool', path: '/srv/b', capacity_bytes: 1 }), 'conflict', { field: 'name' });
    await r.virtualLuns.create({ tenant_id: tenant.id, physical_lun_id: plun.id, name: 'disk', size_bytes: 2 ** 33 });
    await rejectsWith(r.virtualLuns.create({ tenant_id: tenant.id, physical_lun_id: plun.id, name: 'disk', size_bytes: 1 }), 'conflict', { field: 'name' });
    await r.virtualLuns.create({ tenant_id: other.id, physical_lun_id: plun.id, name: 'disk', size_bytes: 1 });
    await r.networks.create({ tenant_id: tenant.id, data_center_id: dc.id, name: 'lan', kind: 'switch' });
    await rejectsWith(r.networks.create({ tenant_id: tenant.id, data_center_id: dc.id, name: 'lan', kind: 'user' }), 'conflict', { field: 'name' });
    const renamed = await r.tenants.create({ name: 'initech' });
    await rejectsWith(r.tenants.update(renamed.id, 1, { name: 'acme' }), 'conflict', { field: 'name' });
    assert.equal((await r.virtualMachines.getByName(other.id, 'web')).tenant_id, other.id);
    assert.equal((await r.virtualLuns.getByName(tenant.id, 'disk')).size_bytes, 2 ** 33);
    assert.equal((await r.physicalLuns.getByName(host.id, 'pool')).id, plun.id);
    assert.equal((await r.networks.getByName(tenant.id, 'lan')).kind, 'switch');
  }));

  test(name('numbers come back as numbers: byte counts past 2^32, fractions, flags'), withStore(async (_store, r) => {
    const { host } = await seed(r);
    const read = await r.hosts.get(host.id);
    assert.equal(read.storage_bytes, 2 ** 40 + 1);
    assert.equal(read.memory_mib, 16384);
    const op = await r.operations.create({ kind: 'vm.start', target_kind: 'vm', target_id: 'x', user_id: null });
    const moved = await r.operations.update(op.id, op.version, { state: 'running', progress: 0.1 });
    assert.equal(moved.progress, 0.1);
    const user = await r.users.create({ name: 'bob', password_hash: 'h' });
    const locked = await r.users.update(user.id, 1, { failed_logins: 3, disabled: 1, totp_last_step: 59_000_000 });
    assert.deepEqual([locked.failed_logins, locked.disabled, locked.totp_last_step], [3, 1, 59_000_000]);
  }));

  test(name('pages of VMs by name cover every row once, stay stable while rows are added, and filter'), withStore(async (_store, r) => {
    const { dc, host, tenant } = await seed(r);
    const other = await r.tenants.create({ name: 'globex' });
    const names: string[] = [];
    for (let i = 0; i < 23; i++) {
      const name = `vm-${String(i).padStart(2, '0')}`;
      names.push(name);
      await r.virtualMachines.create(vmInput(i % 2 ? other.id : tenant.id, dc.id, name, i % 3 ? host.id : null));
    }
    // The same name in two tenants: the id orders them.
    await r.virtualMachines.create(vmInput(other.id, dc.id, 'vm-00'));
    names.push('vm-00');
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await r.virtualMachines.list({}, { limit: 5, cursor });
      assert.ok(page.items.length <= 5);
      seen.push(...page.items.map((vm) => `${vm.name}/${vm.id}`));
      cursor = page.nextCursor;
      if (pages++ === 1) {
        await r.virtualMachines.create(vmInput(tenant.id, dc.id, 'vm-00a')); // before the cursor: not seen
        await r.virtualMachines.create(vmInput(tenant.id, dc.id, 'vm-99')); // after it: seen
      }
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no row twice');
    assert.deepEqual(seen.map((s) => s.split('/')[0]), [...names, 'vm-99'].sort());
    assert.equal(pages, 5, '25 rows in full pages of 5');

    assert.equal((await r.virtualMachines.list({ tenant_id: other.id }, { limit: 100 })).items.length, 12);
    assert.equal((await r.virtualMachines.list({ host_id: host.id }, { limit: 100 })).items.length, 15);
    assert.equal((await r.virtualMachines.list({ host_id: null, tenant_id: tenant.id }, { limit: 100 })).items.length, 6);
    assert.equal((await r.virtualMachines.list({ data_center_id: dc.id })).items.length, 26);
    const vm = (await r.virtualMachines.list({ tenant_id: tenant.id }, { limit: 1 })).items[0]!;
    await r.virtualMachines.update(vm.id, vm.version, { state: 'running' });
    assert.deepEqual((await r.virtualMachines.list({ state: 'running' })).items.map((x) => x.id), [vm.id]);
    await rejectsWith(r.virtualMachines.list({}, { cursor: 'not-a-cursor' }), 'invalid');
    await rejectsWith(r.virtualMachines.list({}, { limit: 0 }), 'invalid');
  }));

  test(name('operations page oldest first; hosts filter by data center and state'), withStore(async (_store, r) => {
    const { dc, host } = await seed(r);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await r.operations.create({ kind: 'vm.start', target_kind: 'vm', target_id: `vm${i % 2}`, user_id: null })).id);
    const first = await r.operations.list({}, { limit: 4 });
    const second = await r.operations.list({}, { limit: 4, cursor: first.nextCursor });
    assert.equal(second.nextCursor, null);
    const listed = [...first.items, ...second.items];
    assert.deepEqual(new Set(listed.map((o) => o.id)), new Set(ids));
    const keys = listed.map((o) => `${o.created_at}/${o.id}`);
    assert.deepEqual(keys, [...keys].sort());
    assert.equal((await r.operations.list({ target_kind: 'vm', target_id: 'vm1' })).items.length, 3);

    const dc2 = await r.dataCenters.create({ name: 'dc2' });
    await r.hosts.create({ data_center_id: dc2.id, name: 'host2', url: 'u', token_sealed: 's', cpus: 1, memory_mib: 1, storage_bytes: 1, state: 'up' });
    assert.deepEqual((await r.hosts.list({ data_center_id: dc.id })).items.map((h) => h.id), [host.id]);
    assert.deepEqual((await r.hosts.list({ state: 'up' })).items.map((h) => h.name), ['host2']);
    assert.deepEqual((await r.hosts.list({ state: 'down', data_center_id: dc2.id })).items, []);
    assert.deepEqual((await r.dataCenters.list({ limit: 1 })).items.map((d) => d.name), ['dc1']);
  }));

  test(name('a transaction that throws leaves nothing behind; one that returns commits'), withStore(async (store, r) => {
    await assert.rejects(store.transaction(async (tx) => {
      await repositories(tx).dataCenters.create({ name: 'ghost' });
      throw new Error('handler failed');
    }), /handler failed/);
    await rejectsWith(r.dataCenters.getByName('ghost'), 'not-found');
    await rejectsWith(store.transaction(async (tx) => {
      const t = repositories(tx);
      await t.tenants.create({ name: 'half' });
      await t.tenants.create({ name: 'half' });
    }), 'conflict');
    assert.equal((await r.tenants.list()).items.length, 0);
    const made = await store.transaction((tx) => repositories(tx).tenants.create({ name: 'whole' }));
    assert.equal((await r.tenants.get(made.id)).name, 'whole');
  }));

  registerRelationTests(name, withStore);
  registerAuditTests(name, withStore);
}
