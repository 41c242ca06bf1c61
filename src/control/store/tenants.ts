// Tenants: the owners of VMs, virtual LUNs and networks, and of their GuestUsers.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import { RoleBindingRepository } from './role-bindings.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, TenantTable } from './tables.js';

export type Tenant = Selectable<TenantTable>;
export interface NewTenant { name: string; description?: string }
export type TenantChanges = Partial<Pick<TenantTable, 'name' | 'description'>>;

export class TenantRepository extends VersionedRepository<'tenants', TenantChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'tenants', entity: 'tenant', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewTenant): Promise<Tenant> {
    return this.insert({ name: input.name, description: input.description ?? '' });
  }

  getByName(name: string): Promise<Tenant> {
    return this.getWhere({ name });
  }

  list(page?: PageRequest): Promise<Page<Tenant>> {
    return this.listWhere({}, page);
  }

  /** Refused ('conflict') while it has users, VMs, LUNs or networks; its role bindings go with it. */
  override async delete(id: string): Promise<void> {
    await super.delete(id);
    await new RoleBindingRepository(this.db).deleteForScope('tenant', id);
  }
}
