import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBindingFitsUser } from './grant-role.js';
import { bindingScope, userScope } from './user-scope.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

function refusal(fn: () => void): string | null {
  try {
    fn();
    return null;
  } catch (error) {
    assert.equal((error as { kind?: string }).kind, 'invalid-request');
    return (error as { context: { field: string } }).context.field;
  }
}

test('staff may be bound anywhere; a global binding has no scope id and the others need one', () => {
  assert.equal(refusal(() => checkBindingFitsUser(null, { role: 'administrator', scopeKind: 'global' })), null);
  assert.equal(refusal(() => checkBindingFitsUser(null, { role: 'operator', scopeKind: 'data-center', scopeId: OTHER })), null);
  assert.equal(refusal(() => checkBindingFitsUser(null, { role: 'auditor', scopeKind: 'global', scopeId: OTHER })), 'scopeId');
  assert.equal(refusal(() => checkBindingFitsUser(null, { role: 'operator', scopeKind: 'tenant' })), 'scopeId');
});

test('tenant-user is a role on a tenant only', () => {
  assert.equal(refusal(() => checkBindingFitsUser(null, { role: 'tenant-user', scopeKind: 'data-center', scopeId: OTHER })), 'scopeKind');
  assert.equal(refusal(() => checkBindingFitsUser(null, { role: 'tenant-user', scopeKind: 'tenant', scopeId: TENANT })), null);
});

test('a tenant\'s own user is bound on its own tenant and nowhere else', () => {
  assert.equal(refusal(() => checkBindingFitsUser(TENANT, { role: 'administrator', scopeKind: 'tenant', scopeId: TENANT })), null);
  assert.equal(refusal(() => checkBindingFitsUser(TENANT, { role: 'tenant-user', scopeKind: 'tenant', scopeId: OTHER })), 'scopeId');
  assert.equal(refusal(() => checkBindingFitsUser(TENANT, { role: 'auditor', scopeKind: 'global' })), 'scopeId');
  assert.equal(refusal(() => checkBindingFitsUser(TENANT, { role: 'operator', scopeKind: 'data-center', scopeId: TENANT })), 'scopeId');
});

test('users sit in their tenant or the global scope; bindings in the scope they grant', () => {
  assert.deepEqual(userScope({ tenant_id: TENANT }), { tenantId: TENANT });
  assert.deepEqual(userScope({ tenant_id: null }), {});
  assert.deepEqual(bindingScope({ role: 'operator', scope_kind: 'data-center', scope_id: OTHER }), { dataCenterId: OTHER });
  assert.deepEqual(bindingScope({ role: 'tenant-user', scope_kind: 'tenant', scope_id: TENANT }), { tenantId: TENANT });
  assert.deepEqual(bindingScope({ role: 'administrator', scope_kind: 'global', scope_id: null }), {});
});
