// The master's people end to end: tenants, users and their roles, tenant isolation, second
// factors for administrators, lockout.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestMaster, type TestMaster } from '../support/master-client.js';
import { logInAs, makeTenant, makeUser, USER_PASSWORD } from '../support/people.js';

let m: TestMaster;
before(async () => { m = await startTestMaster(); });
after(async () => { await m.close(); });

test('tenants are created, read, renamed with If-Match and deleted when empty', async () => {
  const admin = await m.admin();
  const created = await admin.call('POST', '/api/v1/tenants', { name: 'crud-co', description: 'x' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers['location'], `/api/v1/tenants/${created.body.id}`);
  const id = created.body.id as string;
  const read = await admin.call('GET', `/api/v1/tenants/${id}`);
  assert.equal(read.body.name, 'crud-co');
  assert.equal((await admin.call('PATCH', `/api/v1/tenants/${id}`, { description: 'y' })).status, 428);
  const changed = await admin.call('PATCH', `/api/v1/tenants/${id}`, { description: 'y' }, { 'if-match': read.headers['etag'] as string });
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.body.version, 2);
  assert.equal((await admin.call('POST', '/api/v1/tenants', { name: 'crud-co' })).status, 409);
  const guest = await makeUser(admin, 'crud-guest', [{ role: 'tenant-user', scopeKind: 'tenant', scopeId: id }], id);
  const occupied = await admin.call('DELETE', `/api/v1/tenants/${id}`);
  assert.equal(occupied.status, 409, 'a tenant with users stays');
  assert.equal((await admin.call('DELETE', `/api/v1/users/${guest.id}`)).status, 204);
  assert.equal((await admin.call('DELETE', `/api/v1/tenants/${id}`)).status, 204);
  assert.equal((await admin.call('GET', `/api/v1/tenants/${id}`)).status, 404);
  const audit = await admin.call('GET', '/api/v1/audit?action=tenant.delete');
  assert.equal(audit.body.items[0].target, `tenant:${id}`);
});

test('a tenant\'s users see only their own tenant and its users; the other tenant\'s are not found', async () => {
  const admin = await m.admin();
  const a = await makeTenant(admin, 'tenant-a');
  const b = await makeTenant(admin, 'tenant-b');
  const aUser = await makeUser(admin, 'a-user', [{ role: 'tenant-user', scopeKind: 'tenant', scopeId: a }], a);
  const aAdmin = await makeUser(admin, 'a-admin', [{ role: 'administrator', scopeKind: 'tenant', scopeId: a }], a);
  const bUser = await makeUser(admin, 'b-user', [{ role: 'tenant-user', scopeKind: 'tenant', scopeId: b }], b);

  const asUser = await logInAs(m, aUser);
  assert.deepEqual((await asUser.call('GET', '/api/v1/tenants')).body.items.map((t: { id: string }) => t.id), [a]);
  assert.equal((await asUser.call('GET', `/api/v1/tenants/${a}`)).status, 200);
  assert.equal((await asUser.call('GET', `/api/v1/tenants/${b}`)).status, 404);
  assert.equal((await asUser.call('GET', `/api/v1/users/${aUser.id}`)).status, 403, 'a tenant user reads no users at all');

  const asAdmin = await logInAs(m, aAdmin);
  const names = (await asAdmin.call('GET', '/api/v1/users')).body.items.map((u: { name: string }) => u.name);
  assert.deepEqual(names.sort(), ['a-admin', 'a-user']);
  assert.equal((await asAdmin.call('GET', `/api/v1/users/${aUser.id}`)).status, 200);
  const hidden = await asAdmin.call('GET', `/api/v1/users/${bUser.id}`);
  assert.equal(hidden.status, 404, hidden.text);
  assert.equal((await asAdmin.call('GET', `/api/v1/tenants/${b}`)).status, 404);
  assert.equal((await asAdmin.call('PATCH', `/api/v1/users/${bUser.id}`, { disabled: true }, { 'if-match': '*' })).status, 404);
  assert.equal((await asAdmin.call('POST', '/api/v1/users', { name: 'sneaky', password: USER_PASSWORD, tenantId: b })).status, 404);
  assert.equal((await asAdmin.call('POST', '/api/v1/users', { name: 'staffer', password: USER_PASSWORD })).status, 404, 'staff are out of its reach');
  assert.equal((await asAdmin.call('POST', `/api/v1/users/${aUser.id}/roles`, { role: 'operator', scopeKind: 'tenant', scopeId: b })).status, 404);
  const global = await asAdmin.call('POST', '/api/v1/users', { name: 'a-global', password: USER_PASSWORD, tenantId: a, roles: [{ role: 'auditor', scopeKind: 'global' }] });
  assert.equal(global.status, 400, 'a tenant\'s user is bound on its tenant only');
  const own = await asAdmin.call('POST', '/api/v1/users', { name: 'a-second', password: USER_PASSWORD, tenantId: a, roles: [{ role: 'tenant-user', scopeKind: 'tenant', scopeId: a }] });
  assert.equal(own.status, 201, own.text);
  assert.equal(own.body.totpSecret, undefined, 'a tenant user needs no second factor');
});

test('a new administrator logs in with the TOTP secret returned when it was made, and only with it', async () => {
  const admin = await m.admin();
  const made = await makeUser(admin, 'second-admin', [{ role: 'administrator', scopeKind: 'global' }]);
  assert.match(made.totpSecret ?? '', /^[A-Z2-7]{32}$/u);
  assert.match(made.body.otpauthUri, /^otpauth:\/\/totp\/Vireo:second-admin\?secret=/u);
  assert.equal(made.body.recoveryCodes.length, 10);
  assert.equal(made.body.totpEnrolled, true);
  assert.deepEqual(made.body.roles.map((r: { role: string }) => r.role), ['administrator']);
  const read = await admin.call('GET', `/api/v1/users/${made.id}`);
  assert.equal(read.body.totpSecret, undefined, 'the secret is shown once');
  assert.deepEqual(Object.keys(read.body).sort(), ['createdAt', 'disabled', 'id', 'lockedUntil', 'name', 'tenantId', 'totpEnrolled', 'updatedAt', 'version']);
  assert.equal((await m.client().logIn(made.name, USER_PASSWORD)).status, 401, 'not without the second factor');
  const client = await logInAs(m, made);
  assert.equal((await client.call('GET', '/api/v1/session')).body.roles[0].role, 'administrator');
  const viaCode = await m.client().call('POST', '/api/v1/session', { name: made.name, password: USER_PASSWORD, recoveryCode: made.body.recoveryCodes[0] });
  assert.equal(viaCode.status, 201, viaCode.text);
});

test('roles are listed, granted and revoked; granting administrator hands out a second factor', async () => {
  const admin = await m.admin();
  const dc = (await admin.call('POST', '/api/v1/data-centers', { name: 'roles-dc' })).body.id as string;
  const op = await makeUser(admin, 'op-one', [{ role: 'operator', scopeKind: 'data-center', scopeId: dc }]);
  const listed = await admin.call('GET', `/api/v1/users/${op.id}/roles`);
  assert.deepEqual(listed.body.items.map((b: { role: string; scopeId: string }) => [b.role, b.scopeId]), [['operator', dc]]);
  const asOperator = await logInAs(m, op);
  const seen = await asOperator.call('GET', '/api/v1/data-centers');
  assert.equal(seen.status, 200, 'an operator of one data center lists it');
  assert.deepEqual(seen.body.items.map((d: { id: string }) => d.id), [dc]);
  assert.equal((await admin.call('POST', `/api/v1/users/${op.id}/roles`, { role: 'operator', scopeKind: 'data-center', scopeId: dc })).status, 409);
  assert.equal((await admin.call('POST', `/api/v1/users/${op.id}/roles`, { role: 'tenant-user', scopeKind: 'data-center', scopeId: dc })).status, 400);
  const promoted = await admin.call('POST', `/api/v1/users/${op.id}/roles`, { role: 'administrator', scopeKind: 'data-center', scopeId: dc });
  assert.equal(promoted.status, 201, promoted.text);
  assert.match(promoted.body.totpSecret, /^[A-Z2-7]{32}$/u);
  const asPromoted = await logInAs(m, { ...op, totpSecret: promoted.body.totpSecret });
  assert.equal((await asPromoted.call('GET', '/api/v1/session')).body.roles.length, 2);
  const other = await makeUser(admin, 'op-two', []);
  assert.equal((await admin.call('DELETE', `/api/v1/users/${other.id}/roles/${promoted.body.id}`)).status, 404, 'another user\'s binding');
  assert.equal((await admin.call('DELETE', `/api/v1/users/${op.id}/roles/${promoted.body.id}`)).status, 204);
  assert.deepEqual((await admin.call('GET', `/api/v1/users/${op.id}/roles`)).body.items.map((b: { role: string }) => b.role), ['operator']);
  const audit = await admin.call('GET', '/api/v1/audit?action=role.revoke');
  assert.equal(audit.body.items[0].detail.role, 'administrator');
});

test('an auditor may read users but gets 403 creating one', async () => {
  const admin = await m.admin();
  const auditor = await makeUser(admin, 'auditor-one', [{ role: 'auditor', scopeKind: 'global' }]);
  const client = await logInAs(m, auditor);
  assert.equal((await client.call('GET', '/api/v1/users')).status, 200);
  const refused = await client.call('POST', '/api/v1/users', { name: 'by-auditor', password: USER_PASSWORD });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.body.kind, 'forbidden');
  const users = (await admin.call('GET', '/api/v1/users?limit=1000')).body.items.map((u: { name: string }) => u.name);
  assert.ok(users.includes('auditor-one') && !users.includes('by-auditor'), JSON.stringify(users));
});

test('users: the password policy, disabling (sessions end at once), a new password, and never deleting yourself', async () => {
  const admin = await m.admin();
  const weak = await admin.call('POST', '/api/v1/users', { name: 'weak', password: 'short' });
  assert.equal(weak.status, 400);
  assert.equal(weak.body.field, 'password');
  const user = await makeUser(admin, 'changing', [{ role: 'operator', scopeKind: 'global' }]);
  assert.equal((await admin.call('POST', '/api/v1/users', { name: 'changing', password: USER_PASSWORD })).status, 409);
  const session = await logInAs(m, user);
  const etag = (await admin.call('GET', `/api/v1/users/${user.id}`)).headers['etag'] as string;
  assert.equal((await admin.call('PATCH', `/api/v1/users/${user.id}`, { disabled: true })).status, 428);
  const disabled = await admin.call('PATCH', `/api/v1/users/${user.id}`, { disabled: true }, { 'if-match': etag });
  assert.equal(disabled.status, 200, disabled.text);
  assert.equal(disabled.body.disabled, true);
  assert.equal((await session.call('GET', '/api/v1/session')).status, 401);
  assert.equal((await m.client().logIn(user.name, USER_PASSWORD)).status, 401);
  const enabled = await admin.call('PATCH', `/api/v1/users/${user.id}`, { disabled: false, password: 'another long password' }, { 'if-match': disabled.headers['etag'] as string });
  assert.equal(enabled.status, 200, enabled.text);
  assert.equal((await m.client().logIn(user.name, USER_PASSWORD)).status, 401, 'the old password is gone');
  await logInAs(m, user, 'another long password');
  const me = (await admin.call('GET', '/api/v1/session')).body.user.id as string;
  assert.equal((await admin.call('DELETE', `/api/v1/users/${me}`)).status, 409);
  assert.equal((await admin.call('PATCH', `/api/v1/users/${me}`, { disabled: true }, { 'if-match': '*' })).status, 409);
  assert.equal((await admin.call('DELETE', `/api/v1/users/${user.id}`)).status, 204);
  assert.equal((await admin.call('GET', `/api/v1/users/${user.id}`)).status, 404);
});

test('five wrong passwords lock the account (429, even with the right one) and every failure is audited', async () => {
  const admin = await m.admin();
  const user = await makeUser(admin, 'locky', [{ role: 'operator', scopeKind: 'global' }]);
  m.clock.offsetMs += 60_000; // a full bucket of attempts from this address
  for (let i = 0; i < 5; i++) assert.equal((await m.client().logIn(user.name, 'wrong password, surely')).status, 401);
  const locked = await m.client().logIn(user.name, USER_PASSWORD);
  assert.equal(locked.status, 429, locked.text);
  assert.ok(Number(locked.headers['retry-after']) > 0);
  assert.ok((await admin.call('GET', `/api/v1/users/${user.id}`)).body.lockedUntil !== null);
  const audit = await admin.call('GET', '/api/v1/audit?actor=locky&action=login-failed');
  const reasons = audit.body.items.map((e: { detail: { reason: string } }) => e.detail.reason);
  assert.deepEqual(reasons.filter((r: string) => r === 'wrong password').length, 5, JSON.stringify(reasons));
  assert.ok(reasons.includes('account locked'));
});
