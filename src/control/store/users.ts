// People who log in: the data centers' staff (no tenant) and each tenant's GuestUsers.

import type { Kysely, Selectable } from 'kysely';
import { VersionedRepository } from './table-repository.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase, UserTable } from './tables.js';

export type User = Selectable<UserTable>;
export interface NewUser {
  name: string;
  tenant_id?: string | null;
  password_hash: string;
  totp_secret_sealed?: string | null;
}
export type UserChanges = Partial<Pick<UserTable, 'name' | 'password_hash' | 'totp_secret_sealed' | 'totp_pending_sealed' | 'totp_last_step' |
  'failed_logins' | 'locked_until' | 'disabled'>>;
export interface UserFilter {
  /** A tenant's users; null: the staff, who belong to no tenant. */
  tenant_id?: string | null;
}

export class UserRepository extends VersionedRepository<'users', UserChanges> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'users', entity: 'user', sortKey: 'name', stamps: 'versioned' });
  }

  create(input: NewUser): Promise<User> {
    return this.insert({
      name: input.name, tenant_id: input.tenant_id ?? null, password_hash: input.password_hash,
      totp_secret_sealed: input.totp_secret_sealed ?? null, totp_pending_sealed: null, totp_last_step: null, failed_logins: 0, locked_until: null, disabled: 0,
    });
  }

  getByName(name: string): Promise<User> {
    return this.getWhere({ name });
  }

  list(filter: UserFilter = {}, page?: PageRequest): Promise<Page<User>> {
    return this.listWhere({ tenant_id: filter.tenant_id }, page);
  }
}
