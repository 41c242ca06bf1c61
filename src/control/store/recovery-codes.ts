// A user's one-time recovery codes for when the TOTP device is lost; stored hashed, each usable once.

import type { Kysely, Selectable } from 'kysely';
import { TableRepository } from './table-repository.js';
import { translated } from './to-store-error.js';
import type { MasterDatabase, RecoveryCodeTable } from './tables.js';

export type RecoveryCode = Selectable<RecoveryCodeTable>;

export class RecoveryCodeRepository extends TableRepository<'recovery_codes'> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, { table: 'recovery_codes', entity: 'recovery code', sortKey: 'id', stamps: 'none' });
  }

  /** Replaces all of a user's codes with new ones (run it in a transaction with the rest of enrolment). */
  async replaceAll(userId: string, codeHashes: string[]): Promise<RecoveryCode[]> {
    await translated('delete', { entity: 'recovery code' }, () => this.db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute());
    const codes: RecoveryCode[] = [];
    for (const code_hash of codeHashes) codes.push(await this.insert({ user_id: userId, code_hash, used_at: null }));
    return codes;
  }

  async listForUser(userId: string): Promise<RecoveryCode[]> {
    return translated('query', { entity: 'recovery code' }, () =>
      this.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', userId).orderBy('id').execute());
  }

  /** Marks the code used if it is the user's and unused; false otherwise. One statement, so a code cannot be used twice. */
  async use(userId: string, codeHash: string, at: string): Promise<boolean> {
    const result = await translated('update', { entity: 'recovery code' }, () =>
      this.db.updateTable('recovery_codes').set({ used_at: at })
        .where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst());
    return Number(result.numUpdatedRows) === 1;
  }
}
