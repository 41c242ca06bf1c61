// Data centers: the top of the placement tree; hosts, physical LUNs, networks and VMs live in one.
// delete() is refused ('conflict') while any of those are in it.

import type { Kysely, Selectable } from 'kysely';
import { ScopeRepository, type NewScope, type ScopeChanges } from './scope-repository.js';
import type { DataCenterTable, MasterDatabase } from './tables.js';

export type DataCenter = Selectable<DataCenterTable>;
export type NewDataCenter = NewScope;
export type DataCenterChanges = ScopeChanges;

export class DataCenterRepository extends ScopeRepository<'data_centers'> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, 'data_centers', 'data center', 'data-center');
  }
}
