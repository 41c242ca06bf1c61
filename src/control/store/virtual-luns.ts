// Virtual LUNs: a tenant's thin disks on a physical LUN; names unique per tenant.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import { translated } from './to-store-error.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, VirtualLunTable } from './tables.js';

export type VirtualLun = Selectable<VirtualLunTable>;
export interface NewVirtualLun {
  tenant_id: string;
  physical_lun_id: string;
  name: string;
  size_bytes: number;
  vm_id?: string | null;
}
export type VirtualLunChanges = Partial<Pick<VirtualLunTable, 'name' | 'size_bytes' | 'vm_id'>>;
export interface VirtualLunFilter {
  tenant_id?: string;
  physical_lun_id?: string;
  /** A VM's disks; null: disks attached to no VM. */
  vm_id?: string | null;
}

export class VirtualLunRepository extends VersionedRepository<'virtual_luns', VirtualLunChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'virtual_luns', entity: 'virtual LUN', sortKey: 'name', stamps: 'versioned' });
  }

  /** `id`: chosen first when the host's volume is named after it. */
  create(input: NewVirtualLun, id?: string): Promise<VirtualLun> {
    return this.insert({ ...input, vm_id: input.vm_id ?? null }, id);
  }

  getByName(tenantId: string, name: string): Promise<VirtualLun> {
    return this.getWhere({ tenant_id: tenantId, name });
  }

  list(filter: VirtualLunFilter = {}, page?: PageRequest): Promise<Page<VirtualLun>> {
    return this.listWhere({ tenant_id: filter.tenant_id, physical_lun_id: filter.physical_lun_id, vm_id: filter.vm_id }, page);
  }

  /** The virtual sizes of the LUNs carved from a physical LUN, added up. */
  async provisionedBytes(physicalLunId: string): Promise<number> {
    const row = await translated('query', { entity: 'virtual LUN' }, () => this.db.selectFrom('virtual_luns')
      .select((eb) => eb.fn.sum<number>('size_bytes').as('total')).where('physical_lun_id', '=', physicalLunId).executeTakeFirstOrThrow());
    return Number(row.total ?? 0);
  }
}
