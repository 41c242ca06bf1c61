// Where people and their role bindings sit for authorization: a tenant's user in its tenant,
// the staff in the global scope; a binding in the scope it grants.

import type { RoleBindingFields, Target } from '../security/permissions.js';
import type { User } from '../store/users.js';

export function userScope(user: Pick<User, 'tenant_id'>): Target {
  return user.tenant_id === null ? {} : { tenantId: user.tenant_id };
}

export function bindingScope(binding: RoleBindingFields): Target {
  if (binding.scope_kind === 'data-center' && binding.scope_id) return { dataCenterId: binding.scope_id };
  if (binding.scope_kind === 'tenant' && binding.scope_id) return { tenantId: binding.scope_id };
  return {};
}
