// Data centers: the top of the placement tree; hosts, physical LUNs, networks and VMs live in one.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import { RoleBindingRepository } from './role-bindings.js';
import type { Page, PageRequest } from './page.js';
import type { DataCenterTable, MasterDatabase } from './tables.js';

export type DataCenter = Selectable<DataCenterTable>;
export interface NewDataCenter { name: string; description?: string }
export type DataCenterChanges = Partial<Pick<DataCenterTable, 'name' | 'description'>>;

export class DataCenterRepository extends VersionedRepository<'data_centers', DataCenterChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'data_centers', entity: 'data center', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewDataCenter): Promise<DataCenter> {
    return this.insert({ name: input.name, description: input.description ?? '' });
  }

  getByName(name: string): Promise<DataCenter> {
    return this.getWhere({ name });
  }

  list(page?: PageRequest): Promise<Page<DataCenter>> {
    return this.listWhere({}, page);
  }

  /** Refused ('conflict') while hosts, LUNs, networks or VMs are in it; its role bindings go with it. */
  override async delete(id: string): Promise<void> {
    await super.delete(id);
    await new RoleBindingRepository(this.db).deleteForScope('data-center', id);
  }
}
