// Browser sessions: the cookie's and the CSRF token's hashes, expiring and revocable.

import type { Kysely, Selectable } from 'kysely';
import { CredentialRepository } from './credential-repository.js';
import { translated } from './to-store-error.js';
import { now } from './table-repository.js';
import type { MasterDatabase, SessionTable } from './tables.js';

export type Session = Selectable<SessionTable>;
export interface NewSession {
  user_id: string;
  token_hash: string;
  csrf_hash: string;
  expires_at: string;
}

export class SessionRepository extends CredentialRepository<'sessions'> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, 'sessions', 'session', 'last_seen_at');
  }

  create(input: NewSession): Promise<Session> {
    return this.insert({ ...input, last_seen_at: now(), revoked_at: null });
  }

  /** Ends every session of a user (password change, lockout, logout everywhere). */
  async revokeAllForUser(userId: string, at: string): Promise<number> {
    const result = await translated('update', { entity: 'session' }, () =>
      this.db.updateTable('sessions').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst());
    return Number(result.numUpdatedRows);
  }

  /** Removes sessions that expired before `at`; returns how many. */
  async deleteExpired(at: string): Promise<number> {
    const result = await translated('delete', { entity: 'session' }, () =>
      this.db.deleteFrom('sessions').where('expires_at', '<=', at).executeTakeFirst());
    return Number(result.numDeletedRows);
  }
}
