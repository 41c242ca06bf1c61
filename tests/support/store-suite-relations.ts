// The store suite's tests of references between rows (what a delete does to what hangs from it)
// and of the login records: users, role bindings, recovery codes, API tokens, sessions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rejectsWith, seed, vmInput, type WithStore } from './store-suite.js';

export function registerRelationTests(name: (title: string) => string, withStore: WithStore): void {
  test(name('a VM on a deleted host stays, unplaced; a host with physical LUNs and a data center with hosts cannot be deleted'), withStore(async (_store, r) => {
    const { dc, host, tenant } = await seed(r);
    const vm = await r.virtualMachines.create(vmInput(tenant.id, dc.id, 'web', host.id));
    await r.hosts.delete(host.id);
    const orphan = await r.virtualMachines.get(vm.id);
    assert.equal(orphan.host_id, null);
    assert.equal(orphan.name, 'web');

    const host2 = await r.hosts.create({ data_center_id: dc.id, name: 'host2', url: 'u', token_sealed: 's', cpus: 1, memory_mib: 1, storage_bytes: 1 });
    const plun = await r.physicalLuns.create({ data_center_id: dc.id, host_id: host2.id, name: 'pool', path: '/p', capacity_bytes: 10 });
    await rejectsWith(r.hosts.delete(host2.id), 'conflict', { entity: 'host' });
    await rejectsWith(r.dataCenters.delete(dc.id), 'conflict', { entity: 'data center' });
    await rejectsWith(r.tenants.delete(tenant.id), 'conflict');
    await r.physicalLuns.delete(plun.id);
    await r.hosts.delete(host2.id);
    await r.virtualMachines.delete(vm.id);
    await r.dataCenters.delete(dc.id);
    await rejectsWith(r.dataCenters.get(dc.id), 'not-found');
  }));

  test(name('a row referring to a missing parent is invalid; deleting a VM detaches its virtual LUNs'), withStore(async (_store, r) => {
    const { dc, host, tenant } = await seed(r);
    await rejectsWith(r.virtualMachines.create(vmInput('00000000-0000-0000-0000-000000000000', dc.id, 'web')), 'invalid', { entity: 'virtual machine' });
    await rejectsWith(r.hosts.create({ data_center_id: 'nowhere', name: 'h', url: 'u', token_sealed: 's', cpus: 1, memory_mib: 1, storage_bytes: 1 }), 'invalid');
    const vm = await r.virtualMachines.create(vmInput(tenant.id, dc.id, 'web', host.id));
    const plun = await r.physicalLuns.create({ data_center_id: dc.id, host_id: host.id, name: 'pool', path: '/p', capacity_bytes: 10 });
    const disk = await r.virtualLuns.create({ tenant_id: tenant.id, physical_lun_id: plun.id, name: 'root', size_bytes: 5, vm_id: vm.id });
    await r.virtualLuns.create({ tenant_id: tenant.id, physical_lun_id: plun.id, name: 'spare', size_bytes: 5 });
    assert.deepEqual((await r.virtualLuns.list({ vm_id: vm.id })).items.map((l) => l.id), [disk.id]);
    assert.equal((await r.virtualLuns.list({ tenant_id: tenant.id })).items.length, 2);
    await rejectsWith(r.physicalLuns.delete(plun.id), 'conflict');
    await r.virtualMachines.delete(vm.id);
    assert.equal((await r.virtualLuns.get(disk.id)).vm_id, null);
    assert.deepEqual((await r.virtualLuns.list({ vm_id: null })).items.map((l) => l.name), ['root', 'spare']);
  }));

  test(name('users with role bindings and recovery codes; deleting a user takes its credentials along'), withStore(async (_store, r) => {
    const { dc, tenant } = await seed(r);
    const admin = await r.users.create({ name: 'root', password_hash: 'argon2id$x' });
    const guest = await r.users.create({ name: 'guest', password_hash: 'h', tenant_id: tenant.id });
    assert.deepEqual((await r.users.list({ tenant_id: tenant.id })).items.map((u) => u.name), ['guest']);
    assert.deepEqual((await r.users.list({ tenant_id: null })).items.map((u) => u.name), ['root']);
    assert.equal((await r.users.getByName('guest')).id, guest.id);

    await r.roleBindings.grant({ user_id: admin.id, role: 'administrator', scope_kind: 'global', scope_id: 'ignored' });
    await r.roleBindings.grant({ user_id: admin.id, role: 'operator', scope_kind: 'data-center', scope_id: dc.id });
    await r.roleBindings.grant({ user_id: guest.id, role: 'tenant-user', scope_kind: 'tenant', scope_id: tenant.id });
    const bindings = await r.roleBindings.listForUser(admin.id);
    assert.deepEqual(bindings.map((b) => `${b.role}@${b.scope_kind}:${b.scope_id}`).sort(), ['administrator@global:null', `operator@data-center:${dc.id}`]);
    assert.equal((await r.roleBindings.listForScope('tenant', tenant.id)).items.length, 1);

    const codes = await r.recoveryCodes.replaceAll(admin.id, ['c1', 'c2']);
    assert.equal(codes.length, 2);
    assert.equal(await r.recoveryCodes.use(admin.id, 'c1', '2026-01-01T00:00:00.000Z'), true);
    assert.equal(await r.recoveryCodes.use(admin.id, 'c1', '2026-01-01T00:00:01.000Z'), false, 'a code works once');
    assert.equal(await r.recoveryCodes.use(guest.id, 'c2', '2026-01-01T00:00:01.000Z'), false, "another user's code");
    await r.recoveryCodes.replaceAll(admin.id, ['c3']);
    assert.deepEqual((await r.recoveryCodes.listForUser(admin.id)).map((c) => [c.code_hash, c.used_at]), [['c3', null]]);

    const token = await r.apiTokens.create({ user_id: admin.id, name: 'ci', token_hash: 't1', scopes: ['vm:read'], expires_at: '2099-01-01T00:00:00.000Z' });
    await r.sessions.create({ user_id: admin.id, token_hash: 's1', csrf_hash: 'c', expires_at: '2099-01-01T00:00:00.000Z' });
    await r.users.delete(admin.id);
    assert.deepEqual(await r.roleBindings.listForUser(admin.id), []);
    assert.deepEqual(await r.recoveryCodes.listForUser(admin.id), []);
    await rejectsWith(r.apiTokens.get(token.id), 'not-found');
    await rejectsWith(r.sessions.getByHash('s1'), 'not-found');

    await rejectsWith(r.tenants.delete(tenant.id), 'conflict', {}); // its user is still there
    await r.users.delete(guest.id);
    await r.tenants.delete(tenant.id);
    assert.deepEqual((await r.roleBindings.listForScope('tenant', tenant.id)).items, [], 'the tenant\'s bindings went with it');
  }));

  test(name('a pending TOTP secret is kept beside the active one until it replaces it'), withStore(async (_store, r) => {
    const user = await r.users.create({ name: 'dave', password_hash: 'h', totp_secret_sealed: 'active' });
    assert.equal(user.totp_pending_sealed, null);
    const pending = await r.users.update(user.id, user.version, { totp_pending_sealed: 'pending' });
    assert.deepEqual([pending.totp_secret_sealed, pending.totp_pending_sealed], ['active', 'pending']);
    const confirmed = await r.users.update(user.id, pending.version, { totp_secret_sealed: 'pending', totp_pending_sealed: null });
    assert.deepEqual([confirmed.totp_secret_sealed, confirmed.totp_pending_sealed], ['pending', null]);
    assert.equal((await r.users.get(user.id)).totp_pending_sealed, null);
  }));

  test(name('an API token keeps the id its text was made with'), withStore(async (_store, r) => {
    const user = await r.users.create({ name: 'erin', password_hash: 'h' });
    const id = '0b7e4c1a-3d52-4f6e-9a8b-2c1d0e9f8a7b';
    const token = await r.apiTokens.create({ id, user_id: user.id, name: 'ci', token_hash: 'chosen', scopes: [], expires_at: '2099-01-01T00:00:00.000Z' });
    assert.equal(token.id, id);
    assert.equal((await r.apiTokens.getByHash('chosen')).id, id);
  }));

  test(name('API tokens and sessions are found by hash only while neither expired nor revoked'), withStore(async (_store, r) => {
    const user = await r.users.create({ name: 'carol', password_hash: 'h' });
    const at = '2026-06-01T00:00:00.000Z';
    const token = await r.apiTokens.create({ user_id: user.id, name: 'ci', token_hash: 'tok', scopes: ['vm:read', 'vm:write'], expires_at: '2026-07-01T00:00:00.000Z' });
    assert.deepEqual(JSON.parse(token.scopes), ['vm:read', 'vm:write']);
    await rejectsWith(r.apiTokens.create({ user_id: user.id, name: 'again', token_hash: 'tok', scopes: [], expires_at: at }), 'conflict', { field: 'token_hash' });
    assert.equal((await r.apiTokens.findUsable('tok', at))?.id, token.id);
    assert.equal(await r.apiTokens.findUsable('tok', '2026-07-01T00:00:00.000Z'), undefined, 'expired');
    assert.equal((await r.apiTokens.touch(token.id, at)).last_used_at, at);
    await r.apiTokens.revoke(token.id, at);
    assert.equal(await r.apiTokens.findUsable('tok', at), undefined, 'revoked');
    assert.equal((await r.apiTokens.listForUser(user.id)).items.length, 1);

    const s1 = await r.sessions.create({ user_id: user.id, token_hash: 's1', csrf_hash: 'c1', expires_at: '2026-06-02T00:00:00.000Z' });
    await r.sessions.create({ user_id: user.id, token_hash: 's2', csrf_hash: 'c2', expires_at: '2026-05-01T00:00:00.000Z' });
    assert.equal((await r.sessions.findUsable('s1', at))?.id, s1.id);
    assert.equal(await r.sessions.findUsable('s2', at), undefined);
    assert.equal((await r.sessions.touch(s1.id, at)).last_seen_at, at);
    assert.equal(await r.sessions.deleteExpired(at), 1);
    assert.equal(await r.sessions.revokeAllForUser(user.id, at), 1);
    assert.equal(await r.sessions.findUsable('s1', at), undefined);
    await rejectsWith(r.sessions.touch('missing', at), 'not-found');
  }));
}
