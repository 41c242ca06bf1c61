// API tokens for programs: scoped, expiring, revocable; only the token's hash is kept.

import type { Kysely, Selectable } from 'kysely';
import { CredentialRepository } from './credential-repository.js';
import type { ApiTokenTable, MasterDatabase } from './tables.js';

export type ApiToken = Selectable<ApiTokenTable>;
export interface NewApiToken {
  /** The id inside the token's text (newApiToken); a new one when absent. */
  id?: string;
  user_id: string;
  name: string;
  token_hash: string;
  scopes: string[];
  expires_at: string;
}

export class ApiTokenRepository extends CredentialRepository<'api_tokens'> {
  constructor(db: Kysely<MasterDatabase>) {
    super(db, 'api_tokens', 'API token', 'last_used_at');
  }

  create(input: NewApiToken): Promise<ApiToken> {
    const { id, ...fields } = input;
    return this.insert({ ...fields, scopes: JSON.stringify(input.scopes), revoked_at: null, last_used_at: null }, id);
  }
}
