// Role-based access control, deny by default: one table says which role may do which action,
// and where. The REST API asks `authorize` in front of every route; handlers never check roles.
//
// Scopes of a role binding: global (everything), a data center (targets in it), or a tenant
// (targets it owns). A target names the data center and/or tenant it belongs to; a target that
// names neither (creating a data center or tenant, staff users, the audit log) is global. For
// role.grant/revoke the target is the scope of the binding granted; for a tenant's users, the
// tenant. A tenant-user binding counts only on a tenant, and a tenant's own users (Principal
// tenantId) only through bindings on their tenant.
//
// API token scopes (a token narrows its user's rights, never widens them; every action needs
// the one scope below and a role binding that grants it):
//   <resource>:read   the resource's read actions (vm:read, host:read, audit:read, ...)
//   <resource>:write  its other actions: create, update, delete, start, stop, grant, ...
//   vm:console        VM consoles, apart from vm:write because a console is a shell
//   read              every <resource>:read
//   admin             everything the user may do
// Resources: data-center host physical-lun virtual-lun network vm tenant user role token
// session operation audit.

import type { Role, RoleBindingTable } from '../store/tables.js';
import { SecurityError } from './security-error.js';

/** 'scope': where a binding of the role covers the target; 'any': on any target, for anyone bound in the role; '-': never. */
export type Grant = 'scope' | 'any' | '-';

interface ActionRule {
  kind: 'read' | 'write' | 'console';
  grants: Readonly<Record<Role, Grant>>;
}

function rule(kind: ActionRule['kind'], administrator: Grant, operator: Grant, tenantUser: Grant, auditor: Grant): ActionRule {
  return { kind, grants: { administrator, operator, 'tenant-user': tenantUser, auditor } };
}

/** The permission matrix. Columns: administrator, operator, tenant-user, auditor. */
export const ACTIONS = {
  'data-center.read':     rule('read',  'scope', 'scope', 'any',   'scope'), // tenants pick where their VMs go
  'data-center.create':   rule('write', 'scope', '-',     '-',     '-'),
  'data-center.update':   rule('write', 'scope', '-',     '-',     '-'),
  'data-center.delete':   rule('write', 'scope', '-',     '-',     '-'),
  'host.read':            rule('read',  'scope', 'scope', '-',     'scope'),
  'host.create':          rule('write', 'scope', 'scope', '-',     '-'),
  'host.update':          rule('write', 'scope', 'scope', '-',     '-'),
  'host.delete':          rule('write', 'scope', 'scope', '-',     '-'),
  'physical-lun.read':    rule('read',  'scope', 'scope', '-',     'scope'),
  'physical-lun.create':  rule('write', 'scope', 'scope', '-',     '-'),
  'physical-lun.update':  rule('write', 'scope', 'scope', '-',     '-'),
  'physical-lun.delete':  rule('write', 'scope', 'scope', '-',     '-'),
  'virtual-lun.read':     rule('read',  'scope', 'scope', 'scope', 'scope'),
  'virtual-lun.create':   rule('write', 'scope', 'scope', 'scope', '-'),
  'virtual-lun.update':   rule('write', 'scope', 'scope', 'scope', '-'),
  'virtual-lun.delete':   rule('write', 'scope', 'scope', 'scope', '-'),
  'network.read':         rule('read',  'scope', 'scope', 'scope', 'scope'),
  'network.create':       rule('write', 'scope', 'scope', 'scope', '-'),
  'network.update':       rule('write', 'scope', 'scope', 'scope', '-'),
  'network.delete':       rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.read':              rule('read',  'scope', 'scope', 'scope', 'scope'),
  'vm.create':            rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.update':            rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.delete':            rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.start':             rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.stop':              rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.pause':             rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.resume':            rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.snapshot':          rule('write', 'scope', 'scope', 'scope', '-'),
  'vm.migrate':           rule('write', 'scope', 'scope', '-',     '-'), // placement is the infrastructure's
  'vm.console':           rule('console', 'scope', 'scope', 'scope', '-'),
  'tenant.read':          rule('read',  'scope', 'any',   'scope', 'scope'), // operators see whose VMs they run
  'tenant.create':        rule('write', 'scope', '-',     '-',     '-'),
  'tenant.update':        rule('write', 'scope', '-',     '-',     '-'),
  'tenant.delete':        rule('write', 'scope', '-',     '-',     '-'),
  'user.read':            rule('read',  'scope', '-',     '-',     'scope'),
  'user.create':          rule('write', 'scope', '-',     '-',     '-'),
  'user.update':          rule('write', 'scope', '-',     '-',     '-'),
  'user.delete':          rule('write', 'scope', '-',     '-',     '-'),
  'role.read':            rule('read',  'scope', '-',     '-',     'scope'),
  'role.grant':           rule('write', 'scope', '-',     '-',     '-'),
  'role.revoke':          rule('write', 'scope', '-',     '-',     '-'),
  'token.read':           rule('read',  'any',   'any',   'any',   'any'), // a user's own tokens
  'token.create':         rule('write', 'any',   'any',   'any',   'any'),
  'token.revoke':         rule('write', 'any',   'any',   'any',   'any'),
  'session.read':         rule('read',  'any',   'any',   'any',   'any'), // who am I
  'session.update':       rule('write', 'any',   'any',   'any',   'any'), // my own second factor
  'session.delete':       rule('write', 'any',   'any',   'any',   'any'), // log out
  'operation.read':       rule('read',  'scope', 'scope', 'scope', 'scope'),
  'audit.read':           rule('read',  'scope', '-',     '-',     'scope'),
} as const satisfies Record<string, ActionRule>;

export type Action = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as Action[];

/** The token scope an action needs. */
export function requiredTokenScope(action: Action): string {
  const { kind } = ACTIONS[action] as ActionRule;
  return kind === 'console' ? 'vm:console' : `${action.slice(0, action.indexOf('.'))}:${kind}`;
}

/** Every scope a token may carry. */
export const TOKEN_SCOPES: readonly string[] = ['admin', 'read', ...new Set(ACTION_NAMES.map(requiredTokenScope))];

/** Throws 'bad-argument' naming the first scope that is not one of TOKEN_SCOPES. */
export function checkTokenScopes(scopes: readonly string[]): void {
  for (const scope of scopes) {
    if (!TOKEN_SCOPES.includes(scope)) throw new SecurityError('bad-argument', `unknown token scope ${JSON.stringify(scope)}; scopes are ${TOKEN_SCOPES.join(', ')}`);
  }
}

/** Whether a token holding `held` covers `scope`. */
export function tokenScopeCovers(held: readonly string[], scope: string): boolean {
  if (held.includes('admin') || held.includes(scope)) return true;
  return held.includes('read') && scope.endsWith(':read');
}

export type RoleBindingFields = Pick<RoleBindingTable, 'role' | 'scope_kind' | 'scope_id'>;

export interface Principal {
  /** The user's tenant for a tenant's own users; null (or absent) for staff. */
  tenantId?: string | null;
  bindings: readonly RoleBindingFields[];
  /** The API token's scopes when the request came with a token; absent for a session. */
  tokenScopes?: readonly string[];
}

export interface Target {
  dataCenterId?: string;
  tenantId?: string;
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

function effectiveBindings(principal: Principal): RoleBindingFields[] {
  return principal.bindings.filter((b) => {
    if (b.scope_kind !== 'global' && !b.scope_id) return false;
    if (b.role === 'tenant-user' && b.scope_kind !== 'tenant') return false;
    if (principal.tenantId) return b.scope_kind === 'tenant' && b.scope_id === principal.tenantId;
    return true;
  });
}

function covers(binding: RoleBindingFields, target: Target): boolean {
  switch (binding.scope_kind) {
    case 'global':
      return true;
    case 'data-center':
      return target.dataCenterId === binding.scope_id;
    case 'tenant':
      return target.tenantId === binding.scope_id;
  }
}

function describe(target: Target): string {
  const parts = [target.dataCenterId && `data center ${target.dataCenterId}`, target.tenantId && `tenant ${target.tenantId}`].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'the global scope';
}

function ruleOf(action: string): ActionRule | undefined {
  return Object.hasOwn(ACTIONS, action) ? (ACTIONS[action as Action] as ActionRule) : undefined;
}

/** The scope a request's API token lacks for `action`, or null when it has it or there is no token. */
function missingTokenScope(principal: Principal, action: Action): string | null {
  const scope = requiredTokenScope(action);
  return principal.tokenScopes === undefined || tokenScopeCovers(principal.tokenScopes, scope) ? null : scope;
}

export function authorize(principal: Principal, action: Action, target: Target): Decision {
  const found = ruleOf(action);
  if (!found) return { allowed: false, reason: `unknown action ${JSON.stringify(action)}` };
  const missing = missingTokenScope(principal, action);
  if (missing) return { allowed: false, reason: `the API token's scopes do not include ${missing}` };
  for (const binding of effectiveBindings(principal)) {
    const grant = found.grants[binding.role];
    if (grant === 'any' || (grant === 'scope' && covers(binding, target))) return { allowed: true };
  }
  return { allowed: false, reason: `no role binding grants ${action} on ${describe(target)}` };
}

/** Where a principal may do `action`, for filtering a list: everywhere, or in these data centers and tenants. */
export interface ScopeFilter {
  everywhere: boolean;
  dataCenterIds: string[];
  tenantIds: string[];
}

export function authorizedScopes(principal: Principal, action: Action): ScopeFilter {
  const filter: ScopeFilter = { everywhere: false, dataCenterIds: [], tenantIds: [] };
  const found = ruleOf(action);
  if (!found || missingTokenScope(principal, action)) return filter;
  for (const binding of effectiveBindings(principal)) {
    const grant = found.grants[binding.role];
    if (grant === '-') continue;
    if (grant === 'any' || binding.scope_kind === 'global') filter.everywhere = true;
    else if (binding.scope_kind === 'data-center') filter.dataCenterIds.push(binding.scope_id!);
    else filter.tenantIds.push(binding.scope_id!);
  }
  return filter;
}

/** Whether a principal may give a new token these scopes: a session any valid ones, a token only what it holds itself. */
export function mayGrantTokenScopes(principal: Principal, requested: readonly string[]): boolean {
  if (!requested.every((s) => TOKEN_SCOPES.includes(s))) return false;
  const held = principal.tokenScopes;
  if (held === undefined) return true;
  return requested.every((s) => tokenScopeCovers(held, s));
}
