// What API tokens and sessions share: a secret stored only as its hash, found by that hash,
// usable until it expires or is revoked, and touched on each use.

import type { Kysely } from 'kysely';
import { TableRepository, type Row } from './table-repository.js';
import type { Page, PageRequest } from './page.js';
import type { MasterDatabase } from './tables.js';

export class CredentialRepository<T extends 'api_tokens' | 'sessions'> extends TableRepository<T> {
  private readonly touchColumn: string;

  constructor(db: Kysely<MasterDatabase>, table: T, entity: string, touchColumn: string) {
    super(db, { table, entity, sortKey: 'created_at', stamps: 'created' });
    this.touchColumn = touchColumn;
  }

  getByHash(tokenHash: string): Promise<Row<T>> {
    return this.getWhere({ token_hash: tokenHash });
  }

  /** The credential with this hash if it is neither revoked nor expired at `at`. */
  async findUsable(tokenHash: string, at: string): Promise<Row<T> | undefined> {
    const row = await this.findWhere({ token_hash: tokenHash, revoked_at: null });
    return row && (row as { expires_at: string }).expires_at > at ? row : undefined;
  }

  listForUser(userId: string, page?: PageRequest): Promise<Page<Row<T>>> {
    return this.listWhere({ user_id: userId }, page);
  }

  touch(id: string, at: string): Promise<Row<T>> {
    return this.set(id, { [this.touchColumn]: at });
  }

  revoke(id: string, at: string): Promise<Row<T>> {
    return this.set(id, { revoked_at: at });
  }
}
