// The master's view of each VM: owner, placement, size, last known state and its spec; names
// unique per tenant.

import type { Kysely, Selectable } from 'kysely';
import { now, VersionedRepository } from './table-repository.js';
import { translated } from './to-store-error.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, VirtualMachineTable, VmState } from './tables.js';

export type VirtualMachine = Selectable<VirtualMachineTable>;
export interface NewVirtualMachine {
  tenant_id: string;
  data_center_id: string;
  host_id?: string | null;
  name: string;
  cpus: number;
  memory_mib: number;
  /** JSON text. */
  spec: string;
  /** 'defined' unless given. */
  state?: VmState;
  state_reason?: string;
}
export type VirtualMachineChanges = Partial<Pick<VirtualMachineTable, 'host_id' | 'name' | 'cpus' | 'memory_mib' | 'state' |
  'state_reason' | 'spec'>>;
export interface VirtualMachineFilter {
  tenant_id?: string;
  data_center_id?: string;
  /** A host's VMs; null: those not placed. */
  host_id?: string | null;
  state?: VmState;
}

export class VirtualMachineRepository extends VersionedRepository<'virtual_machines', VirtualMachineChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'virtual_machines', entity: 'virtual machine', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewVirtualMachine): Promise<VirtualMachine> {
    return this.insert({ ...input, host_id: input.host_id ?? null, state: input.state ?? 'defined', state_reason: input.state_reason ?? '' });
  }

  getByName(tenantId: string, name: string): Promise<VirtualMachine> {
    return this.getWhere({ tenant_id: tenantId, name });
  }

  list(filter: VirtualMachineFilter = {}, page?: PageRequest): Promise<Page<VirtualMachine>> {
    return this.listWhere({ tenant_id: filter.tenant_id, data_center_id: filter.data_center_id, host_id: filter.host_id, state: filter.state }, page);
  }

  /**
   * Records the state the VM was found in, with a new version; with `from`, only while it is
   * still in that state (so an observation made before a newer one does not overwrite it).
   * The row, or undefined when it was not in `from` (or is gone).
   */
  async setState(id: string, state: VmState, reason: string, from?: VmState): Promise<VirtualMachine | undefined> {
    return translated('update', { entity: 'virtual machine', id }, () => {
      let query = this.db.updateTable('virtual_machines')
        .set((eb) => ({ state, state_reason: reason, version: eb('version', '+', 1), updated_at: now() }))
        .where('id', '=', id);
      if (from !== undefined) query = query.where('state', '=', from);
      return query.returningAll().executeTakeFirst();
    });
  }

  /** How many VMs are placed on the host. */
  async countOnHost(hostId: string): Promise<number> {
    const row = await translated('query', { entity: 'virtual machine' }, () => this.db.selectFrom('virtual_machines')
      .select((eb) => eb.fn.countAll<number>().as('count')).where('host_id', '=', hostId).executeTakeFirstOrThrow());
    return Number(row.count);
  }
}
