// Who may do what where: a user's roles, each global or on one data center or tenant.

import type { Kysely, Selectable } from 'kysely';
import { TableRepository } from './table-repository.js';
import { translated } from './to-store-error.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, Role, RoleBindingTable, ScopeKind } from './tables.js';

export type RoleBinding = Selectable<RoleBindingTable>;
export interface NewRoleBinding {
  user_id: string;
  role: Role;
  scope_kind: ScopeKind;
  /** The data center's or tenant's id; null (or absent) for global. */
  scope_id?: string | null;
}

export class RoleBindingRepository extends TableRepository<'role_bindings'> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'role_bindings', entity: 'role binding', sortKey: 'created_at', stamps: 'created' });
  }

  grant(input: NewRoleBinding): Promise<RoleBinding> {
    return this.insert({ ...input, scope_id: input.scope_kind === 'global' ? null : input.scope_id ?? null });
  }

  /** All of a user's bindings (a handful), for the authorization check. */
  async listForUser(userId: string): Promise<RoleBinding[]> {
    return translated('query', { entity: 'role binding' }, () =>
      this.db.selectFrom('role_bindings').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute());
  }

  listForScope(scopeKind: ScopeKind, scopeId: string | null, page?: PageRequest): Promise<Page<RoleBinding>> {
    return this.listWhere({ scope_kind: scopeKind, scope_id: scopeId }, page);
  }

  /** Removes the bindings on a data center or tenant that is going away (scope_id has no foreign key). */
  async deleteForScope(scopeKind: ScopeKind, scopeId: string): Promise<number> {
    const result = await translated('delete', { entity: 'role binding' }, () =>
      this.db.deleteFrom('role_bindings').where('scope_kind', '=', scopeKind).where('scope_id', '=', scopeId).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}
