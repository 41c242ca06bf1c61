// Physical LUNs: a host's backing stores that virtual LUNs are carved from; names unique per host.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, PhysicalLunTable } from './tables.js';

export type PhysicalLun = Selectable<PhysicalLunTable>;
export type NewPhysicalLun = Pick<PhysicalLunTable, 'data_center_id' | 'host_id' | 'name' | 'path' | 'capacity_bytes'>;
export type PhysicalLunChanges = Partial<Pick<PhysicalLunTable, 'name' | 'path' | 'capacity_bytes'>>;
export interface PhysicalLunFilter {
  data_center_id?: string;
  host_id?: string;
}

export class PhysicalLunRepository extends VersionedRepository<'physical_luns', PhysicalLunChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'physical_luns', entity: 'physical LUN', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewPhysicalLun): Promise<PhysicalLun> {
    return this.insert({ ...input });
  }

  getByName(hostId: string, name: string): Promise<PhysicalLun> {
    return this.getWhere({ host_id: hostId, name });
  }

  list(filter: PhysicalLunFilter = {}, page?: PageRequest): Promise<Page<PhysicalLun>> {
    return this.listWhere({ data_center_id: filter.data_center_id, host_id: filter.host_id }, page);
  }
}
