// Data centers and tenants are alike: a unique name, a description, and role bindings scoped
// to them (which have no foreign key, as scope_id points at either table).

import type { Kysely } from 'kysely';
import { VersionedRepository, type Row } from './table-repository.js';
import { RoleBindingRepository } from './role-bindings.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, ScopeKind } from './tables.js';

export interface NewScope { name: string; description?: string }
export interface ScopeChanges { name?: string; description?: string }

export class ScopeRepository<T extends 'data_centers' | 'tenants'> extends VersionedRepository<T, ScopeChanges> {
  private readonly scopeKind: ScopeKind;

  constructor(db: Kysely<MasterDatabase>, table: T, entity: string, scopeKind: ScopeKind) {
    super(db, { table, entity, sortKey: 'name', stamps: 'versioned' });
    this.scopeKind = scopeKind;
  }

  create(input: NewScope): Promise<Row<T>> {
    return this.insert({ name: input.name, description: input.description ?? '' });
  }

  getByName(name: string): Promise<Row<T>> {
    return this.getWhere({ name });
  }

  list(page?: PageRequest): Promise<Page<Row<T>>> {
    return this.listWhere({}, page);
  }

  /** Refused ('conflict') while anything is in it; its role bindings go with it. */
  override async delete(id: string): Promise<void> {
    await super.delete(id);
    await new RoleBindingRepository(this.db).deleteForScope(this.scopeKind, id);
  }
}
