// A tenant's networks in a data center; names unique per tenant.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, NetworkTable } from './tables.js';

export type Network = Selectable<NetworkTable>;
export type NewNetwork = Pick<NetworkTable, 'tenant_id' | 'data_center_id' | 'name' | 'kind'>;
export type NetworkChanges = Partial<Pick<NetworkTable, 'name'>>;
export interface NetworkFilter {
  tenant_id?: string;
  data_center_id?: string;
}

export class NetworkRepository extends VersionedRepository<'networks', NetworkChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'networks', entity: 'network', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewNetwork): Promise<Network> {
    return this.insert({ ...input });
  }

  getByName(tenantId: string, name: string): Promise<Network> {
    return this.getWhere({ tenant_id: tenantId, name });
  }

  list(filter: NetworkFilter = {}, page?: PageRequest): Promise<Page<Network>> {
    return this.listWhere({ tenant_id: filter.tenant_id, data_center_id: filter.data_center_id }, page);
  }
}
