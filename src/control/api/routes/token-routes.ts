// /tokens: the caller's own API tokens. The token's text is in the answer that creates it and
// nowhere else; the master keeps its hash.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createApiToken, revokeApiToken } from '../../commands/api-token-changes.js';
import { TOKEN_SCOPES } from '../../security/permissions.js';
import type { ApiToken } from '../../store/api-tokens.js';
import { repositories } from '../../store/repositories.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { body, COMMON_ERRORS, ID_PARAM, json } from './resource-route.js';

const API_TOKEN = z.object({
  id: z.string(), name: z.string(), scopes: z.array(z.string()), createdAt: z.string(), expiresAt: z.string(),
  revokedAt: z.string().nullable(), lastUsedAt: z.string().nullable(),
}).openapi('ApiToken');

const NEW_API_TOKEN = z.object({
  name: z.string().min(1).max(100),
  scopes: z.array(z.string().max(50)).min(1).max(TOKEN_SCOPES.length).openapi({ description: `Some of: ${TOKEN_SCOPES.join(', ')}` }),
  expiresInDays: z.number().int().min(1).max(365).default(30),
}).strict().openapi('NewApiToken');

const CREATED_API_TOKEN = API_TOKEN.extend({ token: z.string().openapi({ description: 'Send as Authorization: Bearer TOKEN; shown this once' }) }).openapi('CreatedApiToken');

function apiTokenView(row: ApiToken): z.infer<typeof API_TOKEN> {
  return {
    id: row.id, name: row.name, scopes: JSON.parse(row.scopes) as string[], createdAt: row.created_at, expiresAt: row.expires_at,
    revokedAt: row.revoked_at, lastUsedAt: row.last_used_at,
  };
}

export function tokenRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['tokens'];

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/tokens', tags, summary: 'The caller\'s own API tokens',
    request: { query: PAGE_QUERY },
    responses: { 200: json('A page of tokens', pageOf(API_TOKEN, 'ApiTokenPage')), ...COMMON_ERRORS },
  }), { action: 'token.read' }), async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await repositories(c.get('master').store.db).apiTokens.listForUser(c.get('caller')!.userId, { limit, cursor: cursor ?? null });
    linkNextPage(c, page.nextCursor);
    return c.json({ items: page.items.map(apiTokenView), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/tokens', tags, summary: 'Make an API token with scopes that narrow the caller\'s rights',
    request: body(NEW_API_TOKEN),
    responses: { 201: json('Created; the token is shown this once', CREATED_API_TOKEN), ...COMMON_ERRORS },
  }), { action: 'token.create' }), async (c) => {
    const made = await createApiToken(c.get('master'), c.get('caller')!, c.req.valid('json'));
    c.header('Cache-Control', 'no-store');
    return c.json({ ...apiTokenView(made.row), token: made.token }, 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/tokens/{id}', tags, summary: 'Revoke a token at once: the caller\'s own, or one of a user the caller may change',
    request: { params: ID_PARAM },
    responses: { 204: { description: 'Revoked' }, ...COMMON_ERRORS },
  }), { action: 'token.revoke' }), async (c) => {
    await revokeApiToken(c.get('master'), c.get('caller')!, c.req.valid('param').id);
    return c.body(null, 204);
  });

  return app;
}
