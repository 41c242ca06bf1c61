// Creating a user: the password checked against the policy and hashed, the roles granted in the
// same transaction (each one the caller may grant itself, so a token without role:write cannot
// grant through user creation), and a second factor for a new administrator, shown once.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import { authorize } from '../security/permissions.js';
import { checkPasswordPolicy, hashPassword } from '../security/password-hash.js';
import type { RoleBinding } from '../store/role-bindings.js';
import type { User } from '../store/users.js';
import { addBinding, checkBindingFitsUser, type RoleBindingRequest } from './grant-role.js';
import type { IssuedTotp } from './issue-totp.js';
import { recordChange } from './record-change.js';
import { bindingScope, userScope } from './user-scope.js';

export interface NewUserRequest {
  name: string;
  password: string;
  /** The tenant whose GuestUser this is; absent or null for staff. */
  tenantId?: string | null | undefined;
  roles?: RoleBindingRequest[] | undefined;
}

export interface CreatedUser {
  user: User;
  bindings: RoleBinding[];
  /** For an administrator: the second factor, returned this once. */
  totp?: IssuedTotp;
}

/** Throws 'invalid-request' naming the field when the password may not be set. */
export function checkNewPassword(password: string): void {
  const problem = checkPasswordPolicy(password);
  if (problem !== null) throw new MasterApiError('invalid-request', `password: ${problem}`, { field: 'password' });
}

export async function createUser(master: MasterServices, caller: Caller, request: NewUserRequest): Promise<CreatedUser> {
  checkNewPassword(request.password);
  const tenantId = request.tenantId ?? null;
  const roles = request.roles ?? [];
  for (const role of roles) {
    checkBindingFitsUser(tenantId, role);
    const scope = bindingScope({ role: role.role, scope_kind: role.scopeKind, scope_id: role.scopeId ?? null });
    const verdict = authorize(caller, 'role.grant', scope);
    if (!verdict.allowed) throw new MasterApiError('forbidden', `${caller.userName} may not grant ${role.role} there: ${verdict.reason}`, { action: 'role.grant' });
  }
  const passwordHash = await hashPassword(request.password, master.passwordHash);
  return recordChange(master, caller, {
    action: 'user.create', resource: 'user',
    apply: async (repos) => {
      if (tenantId !== null) await repos.tenants.get(tenantId);
      let user = await repos.users.create({ name: request.name, tenant_id: tenantId, password_hash: passwordHash });
      const bindings: RoleBinding[] = [];
      let totp: IssuedTotp | undefined;
      for (const role of roles) {
        const granted = await addBinding(master, repos, user, role);
        bindings.push(granted.binding);
        totp ??= granted.totp;
        user = await repos.users.get(user.id);
      }
      const detail = { name: user.name, roles: bindings.map((b) => ({ role: b.role, scopeKind: b.scope_kind, scopeId: b.scope_id })) };
      return { result: { user, bindings, ...(totp === undefined ? {} : { totp }) }, id: user.id, scope: userScope(user), detail };
    },
  });
}
