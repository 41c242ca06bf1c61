// The master's view of each VM: owner, placement, size, last known state and its spec; names
// unique per tenant.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
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
}
