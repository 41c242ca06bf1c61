// Every repository bound to one Kysely (the store's, or a transaction's), for a command's handler.

import type { Kysely } from 'kysely';
import { ApiTokenRepository } from './api-tokens.js';
import { DataCenterRepository } from './data-centers.js';
import { HostRepository } from './hosts.js';
import { NetworkRepository } from './networks.js';
import { OperationRepository } from './operations.js';
import { PhysicalLunRepository } from './physical-luns.js';
import { RecoveryCodeRepository } from './recovery-codes.js';
import { RoleBindingRepository } from './role-bindings.js';
import { SessionRepository } from './sessions.js';
import { TenantRepository } from './tenants.js';
import { UserRepository } from './users.js';
import { VirtualLunRepository } from './virtual-luns.js';
import { VirtualMachineRepository } from './virtual-machines.js';
import type { MasterDatabase } from './tables.js';

export interface Repositories {
  dataCenters: DataCenterRepository;
  tenants: TenantRepository;
  users: UserRepository;
  roleBindings: RoleBindingRepository;
  recoveryCodes: RecoveryCodeRepository;
  apiTokens: ApiTokenRepository;
  sessions: SessionRepository;
  hosts: HostRepository;
  physicalLuns: PhysicalLunRepository;
  virtualLuns: VirtualLunRepository;
  networks: NetworkRepository;
  virtualMachines: VirtualMachineRepository;
  operations: OperationRepository;
}

export function repositories(db: Kysely<MasterDatabase>): Repositories {
  return {
    dataCenters: new DataCenterRepository(db),
    tenants: new TenantRepository(db),
    users: new UserRepository(db),
    roleBindings: new RoleBindingRepository(db),
    recoveryCodes: new RecoveryCodeRepository(db),
    apiTokens: new ApiTokenRepository(db),
    sessions: new SessionRepository(db),
    hosts: new HostRepository(db),
    physicalLuns: new PhysicalLunRepository(db),
    virtualLuns: new VirtualLunRepository(db),
    networks: new NetworkRepository(db),
    virtualMachines: new VirtualMachineRepository(db),
    operations: new OperationRepository(db),
  };
}
