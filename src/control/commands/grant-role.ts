// Granting and revoking roles. A tenant's own users count only through bindings on their
// tenant (permissions.ts), so any other binding for them is refused rather than kept unused;
// a user who becomes an administrator without a second factor gets one at once.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import type { Repositories } from '../store/repositories.js';
import type { RoleBinding } from '../store/role-bindings.js';
import type { Role, ScopeKind } from '../store/tables.js';
import type { User } from '../store/users.js';
import { issueTotp, type IssuedTotp } from './issue-totp.js';
import { recordChange } from './record-change.js';
import { bindingScope } from './user-scope.js';

export interface RoleBindingRequest {
  role: Role;
  scopeKind: ScopeKind;
  /** The data center's or tenant's id; absent or null for global. */
  scopeId?: string | null | undefined;
}

export interface Granted {
  binding: RoleBinding;
  /** When the grant made an administrator of a user without a second factor. */
  totp?: IssuedTotp;
}

/** Throws 'invalid-request' when the binding cannot apply to a user of `tenantId` (null: staff). */
export function checkBindingFitsUser(tenantId: string | null, request: RoleBindingRequest): void {
  const scopeId = request.scopeId ?? null;
  if ((request.scopeKind === 'global') !== (scopeId === null)) {
    throw new MasterApiError('invalid-request', `a ${request.scopeKind} binding ${request.scopeKind === 'global' ? 'takes no' : 'needs a'} scopeId`, { field: 'scopeId' });
  }
  if (request.role === 'tenant-user' && request.scopeKind !== 'tenant') {
    throw new MasterApiError('invalid-request', 'the tenant-user role is granted on a tenant (scopeKind "tenant")', { field: 'scopeKind' });
  }
  if (tenantId !== null && (request.scopeKind !== 'tenant' || scopeId !== tenantId)) {
    throw new MasterApiError('invalid-request', `a tenant's own user may only be bound on its tenant ${tenantId}`, { field: 'scopeId' });
  }
}

/** Checks and adds one binding inside a change's transaction. */
export async function addBinding(master: MasterServices, repos: Repositories, user: User, request: RoleBindingRequest): Promise<Granted> {
  checkBindingFitsUser(user.tenant_id, request);
  const scopeId = request.scopeId ?? null;
  if (request.scopeKind === 'data-center') await repos.dataCenters.get(scopeId!);
  if (request.scopeKind === 'tenant') await repos.tenants.get(scopeId!);
  const existing = await repos.roleBindings.listForUser(user.id);
  if (existing.some((b) => b.role === request.role && b.scope_kind === request.scopeKind && b.scope_id === scopeId)) {
    throw new MasterApiError('conflict', `${user.name} already has ${request.role} on this scope`);
  }
  const binding = await repos.roleBindings.grant({ user_id: user.id, role: request.role, scope_kind: request.scopeKind, scope_id: scopeId });
  if (request.role !== 'administrator' || user.totp_secret_sealed !== null) return { binding };
  return { binding, totp: await issueTotp(master.key, repos, await repos.users.get(user.id)) };
}

export async function grantRole(master: MasterServices, caller: Caller, userId: string, request: RoleBindingRequest): Promise<Granted> {
  return recordChange(master, caller, {
    action: 'role.grant', resource: 'role-binding',
    apply: async (repos) => {
      const user = await repos.users.get(userId);
      const granted = await addBinding(master, repos, user, request);
      const { binding } = granted;
      return { result: granted, id: binding.id, scope: bindingScope(binding), detail: { user: user.id, userName: user.name, role: binding.role, scopeKind: binding.scope_kind, scopeId: binding.scope_id } };
    },
  });
}

export async function revokeRole(master: MasterServices, caller: Caller, userId: string, bindingId: string): Promise<void> {
  await recordChange(master, caller, {
    action: 'role.revoke', resource: 'role-binding',
    apply: async (repos) => {
      const binding = await findBinding(repos, userId, bindingId);
      await repos.roleBindings.delete(binding.id);
      return { result: null, id: binding.id, scope: bindingScope(binding), detail: { user: userId, role: binding.role, scopeKind: binding.scope_kind, scopeId: binding.scope_id } };
    },
  });
}

/** The user's binding with this id; another user's is as missing as one that does not exist. */
export async function findBinding(repos: Repositories, userId: string, bindingId: string): Promise<RoleBinding> {
  const binding = await repos.roleBindings.get(bindingId);
  if (binding.user_id !== userId) throw new MasterApiError('not-found', `user ${userId} has no role binding ${bindingId}`);
  return binding;
}
