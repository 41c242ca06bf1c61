// Tenants: the owners of VMs, virtual LUNs and networks, and of their GuestUsers.
// delete() is refused ('conflict') while any of those remain.

import type { Kysely, Selectable } from 'kysely';
import { ScopeRepository, type NewScope, type ScopeChanges } from './scope-repository.js';
import type { MasterDatabase, TenantTable } from './tables.js';

export type Tenant = Selectable<TenantTable>;
export type NewTenant = NewScope;
export type TenantChanges = ScopeChanges;

export class TenantRepository extends ScopeRepository<'tenants'> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, 'tenants', 'tenant', 'tenant');
  }
}
