// API tokens for programs: made by their user with scopes that narrow the user's rights,
// expiring, stored by hash (the text is shown once), revocable at once by their user or by
// whoever may change that user.

import type { Caller } from '../api/caller.js';
import { MasterApiError } from '../api/master-api-error.js';
import type { MasterServices } from '../master-services.js';
import { authorize, checkTokenScopes, mayGrantTokenScopes } from '../security/permissions.js';
import { newApiToken } from '../security/secret-tokens.js';
import type { ApiToken } from '../store/api-tokens.js';
import { recordChange } from './record-change.js';
import { userScope } from './user-scope.js';

const DAY_MS = 86_400_000;

export interface ApiTokenRequest {
  name: string;
  scopes: string[];
  /** 1..365. */
  expiresInDays: number;
}

export async function createApiToken(master: MasterServices, caller: Caller, request: ApiTokenRequest): Promise<{ row: ApiToken; token: string }> {
  try {
    checkTokenScopes(request.scopes);
  } catch (error) {
    throw new MasterApiError('invalid-request', (error as Error).message, { field: 'scopes' });
  }
  if (!mayGrantTokenScopes(caller, request.scopes)) {
    throw new MasterApiError('forbidden', 'a token can only make tokens with scopes it holds itself', { action: 'token.create' });
  }
  const made = newApiToken();
  const expiresAt = new Date(master.clock.now() + request.expiresInDays * DAY_MS).toISOString();
  const row = await recordChange(master, caller, {
    action: 'token.create', resource: 'token',
    apply: async (repos) => {
      const created = await repos.apiTokens.create({ id: made.id, user_id: caller.userId, name: request.name, token_hash: made.hash, scopes: request.scopes, expires_at: expiresAt });
      return { result: created, id: created.id, scope: userScope({ tenant_id: caller.tenantId ?? null }), detail: { name: request.name, scopes: request.scopes, expiresAt } };
    },
  });
  return { row, token: made.token };
}

export async function revokeApiToken(master: MasterServices, caller: Caller, id: string): Promise<void> {
  await recordChange(master, caller, {
    action: 'token.revoke', resource: 'token',
    apply: async (repos) => {
      const token = await repos.apiTokens.get(id);
      const owner = await repos.users.get(token.user_id);
      // Another user's token is as missing as one that does not exist, unless the caller may change its owner.
      if (token.user_id !== caller.userId && !authorize(caller, 'user.update', userScope(owner)).allowed) {
        throw new MasterApiError('not-found', `no API token ${id}`);
      }
      if (token.revoked_at === null) await repos.apiTokens.revoke(id, new Date(master.clock.now()).toISOString());
      return { result: null, id, scope: userScope(owner), detail: { name: token.name, owner: owner.name } };
    },
  });
}
