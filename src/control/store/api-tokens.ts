// API tokens for programs: scoped, expiring, revocable; only the token's hash is kept.

import type { Kysely, Selectable } from 'kysely';
import { CredentialRepository } from './credential-repository.js';
import type { ApiTokenTable, MasterDatabase } from './tables.js';

export type ApiToken = Selectable<ApiTokenTable>;
export interface NewApiToken {
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
    return this.insert({ ...input, scopes: JSON.stringify(input.scopes), revoked_at: null, last_used_at: null });
  }
}
