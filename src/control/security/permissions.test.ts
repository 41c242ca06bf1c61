import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Role, ScopeKind } from '../store/tables.js';
import { ACTION_NAMES, authorize, authorizedScopes, checkTokenScopes, mayGrantTokenScopes, requiredTokenScope, TOKEN_SCOPES } from './permissions.js';
import type { Action, Principal, Target } from './permissions.js';
import { SecurityError } from './security-error.js';

// The matrix as issue 11 words it, written out here independently of the table in permissions.ts.
const RESOURCES: Record<string, string[]> = {
  'data-center': ['read', 'create', 'update', 'delete'],
  host: ['read', 'create', 'update', 'delete'],
  'physical-lun': ['read', 'create', 'update', 'delete'],
  'virtual-lun': ['read', 'create', 'update', 'delete'],
  network: ['read', 'create', 'update', 'delete'],
  vm: ['read', 'create', 'update', 'delete', 'start', 'stop', 'pause', 'resume', 'snapshot', 'migrate', 'console'],
  tenant: ['read', 'create', 'update', 'delete'],
  user: ['read', 'create', 'update', 'delete'],
  role: ['read', 'grant', 'revoke'],
  token: ['read', 'create', 'revoke'],
  session: ['read', 'update', 'delete'],
  operation: ['read'],
  audit: ['read'],
};
const ALL = Object.entries(RESOURCES).flatMap(([resource, verbs]) => verbs.map((verb) => `${resource}.${verb}`)) as Action[];
const of = (...resources: string[]) => ALL.filter((a) => resources.includes(a.split('.')[0]!));
// Every role manages its own tokens and its own session.
const TOKENS = of('token', 'session');

/** What each role may do on a target inside the scope it is bound to. */
const IN_SCOPE: Record<Role, Set<Action>> = {
  // Everything in their scope.
  administrator: new Set(ALL),
  // VMs, hosts, LUNs and networks; not users, roles or the audit log.
  operator: new Set([...of('host', 'physical-lun', 'virtual-lun', 'network', 'vm', 'operation'), ...TOKENS, 'data-center.read', 'tenant.read'] as Action[]),
  // Their tenant's VMs (not where they run), disks, networks and consoles; reading data centers.
  'tenant-user': new Set([...of('virtual-lun', 'network', 'vm', 'operation'), ...TOKENS, 'data-center.read', 'tenant.read'].filter((a) => a !== 'vm.migrate') as Action[]),
  // Read-only everything including the audit log, never consoles; their own tokens.
  auditor: new Set([...ALL.filter((a) => a.endsWith('.read')), ...TOKENS]),
};

/** What each role may do on targets outside its scope: its own tokens, and the few reads it needs anywhere. */
const ANYWHERE: Record<Role, Set<Action>> = {
  administrator: new Set(TOKENS),
  operator: new Set([...TOKENS, 'tenant.read']),
  'tenant-user': new Set([...TOKENS, 'data-center.read']),
  auditor: new Set(TOKENS),
};

const ROLES: Role[] = ['administrator', 'operator', 'tenant-user', 'auditor'];

function principal(role: Role, scope_kind: ScopeKind, scope_id: string | null, extra: Partial<Principal> = {}): Principal {
  return { bindings: [{ role, scope_kind, scope_id }], ...extra };
}

function check(who: Principal, action: Action, target: Target, expected: boolean, label: string): void {
  const decision = authorize(who, action, target);
  assert.equal(decision.allowed, expected, `${label}: ${action} on ${JSON.stringify(target)}`);
  if (!decision.allowed) assert.ok(decision.reason.length > 0);
}

test('the actions are exactly those the issue implies', () => {
  assert.deepEqual([...ACTION_NAMES].sort(), [...ALL].sort());
});

test('the whole matrix: every role and action, inside and outside the bound scope', () => {
  for (const role of ROLES) {
    // Staff are bound to a data center, tenant users to their tenant.
    const who = role === 'tenant-user' ? principal(role, 'tenant', 't1', { tenantId: 't1' }) : principal(role, 'data-center', 'dc1');
    const inside: Target = { dataCenterId: 'dc1', tenantId: 't1' };
    const outside: Target = role === 'tenant-user' ? { dataCenterId: 'dc1', tenantId: 't2' } : { dataCenterId: 'dc2', tenantId: 't1' };
    for (const action of ALL) {
      check(who, action, inside, IN_SCOPE[role].has(action), `${role} inside`);
      check(who, action, outside, ANYWHERE[role].has(action), `${role} outside`);
    }
  }
});

test('tenant users never reach another tenant: VMs, disks, networks, consoles', () => {
  const alice = principal('tenant-user', 'tenant', 't1', { tenantId: 't1' });
  for (const action of ['vm.read', 'vm.console', 'vm.start', 'vm.delete', 'virtual-lun.read', 'network.read', 'operation.read'] as Action[]) {
    assert.equal(authorize(alice, action, { dataCenterId: 'dc1', tenantId: 't1' }).allowed, true, action);
    const denied = authorize(alice, action, { dataCenterId: 'dc1', tenantId: 't2' });
    assert.deepEqual(denied, { allowed: false, reason: `no role binding grants ${action} on data center dc1, tenant t2` });
  }
});

test('global bindings reach every target; a global target needs a global binding', () => {
  const admin = principal('administrator', 'global', null);
  for (const action of ALL) {
    check(admin, action, {}, true, 'global admin');
    check(admin, action, { dataCenterId: 'dc9', tenantId: 't9' }, true, 'global admin');
  }
  const auditor = principal('auditor', 'global', null);
  for (const action of ALL) check(auditor, action, { tenantId: 't9' }, IN_SCOPE.auditor.has(action), 'global auditor');
  // A data center's administrator cannot create data centers or read the audit log (global targets).
  const dcAdmin = principal('administrator', 'data-center', 'dc1');
  check(dcAdmin, 'data-center.create', {}, false, 'dc admin');
  check(dcAdmin, 'audit.read', {}, false, 'dc admin');
  check(dcAdmin, 'data-center.update', { dataCenterId: 'dc1' }, true, 'dc admin');
});

test("an administrator bound to a tenant runs the tenant's users but not the infrastructure", () => {
  const tenantAdmin = principal('administrator', 'tenant', 't1', { tenantId: 't1' });
  check(tenantAdmin, 'user.create', { tenantId: 't1' }, true, 'tenant admin');
  check(tenantAdmin, 'role.grant', { tenantId: 't1' }, true, 'tenant admin');
  check(tenantAdmin, 'role.grant', {}, false, 'tenant admin');
  check(tenantAdmin, 'user.create', { tenantId: 't2' }, false, 'tenant admin');
  check(tenantAdmin, 'host.create', { dataCenterId: 'dc1' }, false, 'tenant admin');
});

test('deny by default: no bindings, malformed bindings, tenant-user bindings off a tenant, unknown actions', () => {
  for (const action of ALL) check({ bindings: [] }, action, {}, false, 'nobody');
  check(principal('administrator', 'data-center', null), 'vm.read', { dataCenterId: 'dc1' }, false, 'no scope id');
  check(principal('tenant-user', 'global', null), 'vm.read', { tenantId: 't1' }, false, 'global tenant-user');
  check(principal('tenant-user', 'data-center', 'dc1'), 'vm.read', { dataCenterId: 'dc1', tenantId: 't1' }, false, 'dc tenant-user');
  assert.deepEqual(authorize(principal('administrator', 'global', null), 'vm.explode' as Action, {}), { allowed: false, reason: 'unknown action "vm.explode"' });
  assert.equal(authorize(principal('administrator', 'global', null), 'toString' as Action, {}).allowed, false);
});

test("a tenant's own user counts only bindings on its tenant", () => {
  check(principal('administrator', 'global', null, { tenantId: 't1' }), 'host.read', { dataCenterId: 'dc1' }, false, 'guest with global admin');
  check(principal('operator', 'tenant', 't2', { tenantId: 't1' }), 'vm.read', { tenantId: 't2' }, false, 'guest bound elsewhere');
  check(principal('operator', 'tenant', 't1', { tenantId: 't1' }), 'vm.read', { tenantId: 't1' }, true, 'guest bound on own tenant');
});

test('token scopes narrow a user, never widen', () => {
  const admin = (tokenScopes: string[]) => principal('administrator', 'global', null, { tokenScopes });
  const target = { dataCenterId: 'dc1', tenantId: 't1' };
  check(admin(['vm:read']), 'vm.read', target, true, 'vm:read');
  assert.deepEqual(authorize(admin(['vm:read']), 'vm.start', target), { allowed: false, reason: "the API token's scopes do not include vm:write" });
  check(admin(['vm:write']), 'vm.start', target, true, 'vm:write');
  check(admin(['vm:write']), 'vm.console', target, false, 'vm:write');
  check(admin(['vm:console']), 'vm.console', target, true, 'vm:console');
  for (const action of ALL) {
    check(admin(['read']), action, target, action.endsWith('.read'), 'read');
    check(admin(['admin']), action, target, true, 'admin');
    check(admin([]), action, target, false, 'no scopes');
  }
  // A tenant user's admin token still cannot touch hosts or other tenants.
  const alice = principal('tenant-user', 'tenant', 't1', { tenantId: 't1', tokenScopes: ['admin'] });
  check(alice, 'host.read', { dataCenterId: 'dc1' }, false, 'tenant admin token');
  check(alice, 'vm.read', { tenantId: 't2' }, false, 'tenant admin token');
  check(alice, 'vm.read', { tenantId: 't1' }, true, 'tenant admin token');
});

test('token scopes: the documented set, validation, and what a token may give a new token', () => {
  assert.deepEqual(new Set(TOKEN_SCOPES), new Set(['admin', 'read', 'vm:console', ...Object.keys(RESOURCES).map((r) => `${r}:read`), ...Object.keys(RESOURCES).filter((r) => !['operation', 'audit'].includes(r)).map((r) => `${r}:write`)]));
  assert.equal(requiredTokenScope('role.grant'), 'role:write');
  assert.equal(requiredTokenScope('audit.read'), 'audit:read');
  checkTokenScopes(['vm:read', 'admin']);
  assert.throws(() => checkTokenScopes(['vm:read', 'vm:destroy']), (e: unknown) => e instanceof SecurityError && e.kind === 'bad-argument' && /"vm:destroy"/.test(e.message));
  const session: Principal = { bindings: [] };
  assert.equal(mayGrantTokenScopes(session, ['admin']), true);
  assert.equal(mayGrantTokenScopes(session, ['nonsense']), false);
  const readToken: Principal = { bindings: [], tokenScopes: ['read', 'token:write'] };
  assert.equal(mayGrantTokenScopes(readToken, ['vm:read', 'read']), true);
  assert.equal(mayGrantTokenScopes(readToken, ['vm:write']), false);
  assert.equal(mayGrantTokenScopes(readToken, ['admin']), false);
  assert.equal(mayGrantTokenScopes({ bindings: [], tokenScopes: ['admin'] }, ['admin', 'read', 'vm:console']), true);
});

test('authorizedScopes gives the filter for lists', () => {
  const twoDcs: Principal = {
    bindings: [
      { role: 'operator', scope_kind: 'data-center', scope_id: 'dc1' },
      { role: 'operator', scope_kind: 'data-center', scope_id: 'dc2' },
      { role: 'auditor', scope_kind: 'tenant', scope_id: 't5' },
    ],
  };
  assert.deepEqual(authorizedScopes(twoDcs, 'vm.read'), { everywhere: false, dataCenterIds: ['dc1', 'dc2'], tenantIds: ['t5'] });
  assert.deepEqual(authorizedScopes(twoDcs, 'vm.start'), { everywhere: false, dataCenterIds: ['dc1', 'dc2'], tenantIds: [] });
  assert.deepEqual(authorizedScopes(twoDcs, 'user.read'), { everywhere: false, dataCenterIds: [], tenantIds: ['t5'] });
  assert.deepEqual(authorizedScopes(twoDcs, 'tenant.read').everywhere, true);
  assert.deepEqual(authorizedScopes(principal('auditor', 'global', null), 'audit.read').everywhere, true);
  const alice = principal('tenant-user', 'tenant', 't1', { tenantId: 't1' });
  assert.deepEqual(authorizedScopes(alice, 'vm.read'), { everywhere: false, dataCenterIds: [], tenantIds: ['t1'] });
  assert.equal(authorizedScopes(alice, 'data-center.read').everywhere, true);
  assert.deepEqual(authorizedScopes(alice, 'host.read'), { everywhere: false, dataCenterIds: [], tenantIds: [] });
  assert.deepEqual(authorizedScopes({ ...alice, tokenScopes: ['network:read'] }, 'vm.read'), { everywhere: false, dataCenterIds: [], tenantIds: [] });
});
