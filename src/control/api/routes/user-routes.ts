// /users: the data centers' staff and each tenant's GuestUsers. A user sits in its tenant, or
// in the global scope for staff; callers see and change only those in their reach.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { changeUser, deleteUser } from '../../commands/change-user.js';
import { createUser } from '../../commands/create-user.js';
import { userScope } from '../../commands/user-scope.js';
import { authorizedScopes, type Target } from '../../security/permissions.js';
import { repositories } from '../../store/repositories.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { CREATED_USER, issuedTotpView, PASSWORD, ROLE_BINDING_REQUEST, roleBindingView, USER, USER_NAME, userView } from './people-schemas.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';

const NEW_USER = z.object({
  name: USER_NAME, password: PASSWORD,
  tenantId: z.string().uuid().nullable().optional().openapi({ description: 'The tenant whose user this is; absent for staff' }),
  roles: z.array(ROLE_BINDING_REQUEST).max(20).optional(),
}).strict().openapi('NewUser');

const USER_CHANGES = z.object({
  disabled: z.boolean().optional(),
  password: PASSWORD.optional().openapi({ description: 'A new password, set by an administrator; ends the user\'s sessions and lifts a lockout' }),
}).strict().openapi('UserChanges');

/** The user of the path's {id}, where it sits. */
export async function userTarget(c: Context<MasterEnv>): Promise<Target> {
  return userScope(await repositories(c.get('master').store.db).users.get(pathId(c)));
}

/** A new user sits where its body's tenantId says; read before validation, so anything unreadable is staff (the strictest). */
async function newUserTarget(c: Context<MasterEnv>): Promise<Target> {
  const input: unknown = await c.req.json().catch(() => undefined);
  const tenantId = typeof input === 'object' && input !== null ? (input as { tenantId?: unknown }).tenantId : undefined;
  if (typeof tenantId !== 'string') return {};
  await repositories(c.get('master').store.db).tenants.get(tenantId);
  return { tenantId };
}

export function userRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['users'];

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/users', tags, summary: 'The users the caller may see',
    request: { query: PAGE_QUERY },
    responses: { 200: json('A page of users', pageOf(USER, 'UserPage')), ...COMMON_ERRORS },
  }), { action: 'user.read', filtered: true }), async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'user.read');
    // A caller reaching one tenant (its own users' administrator) pages through that tenant alone.
    const only = !reach.everywhere && reach.tenantIds.length === 1 ? { tenant_id: reach.tenantIds[0]! } : {};
    const page = await repositories(c.get('master').store.db).users.list(only, { limit, cursor: cursor ?? null });
    const items = page.items.filter((row) => reach.everywhere || (row.tenant_id !== null && reach.tenantIds.includes(row.tenant_id))).map(userView);
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/users', tags, summary: 'Create a user; an administrator\'s second factor is in the answer, once',
    request: body(NEW_USER),
    responses: { 201: json('Created', CREATED_USER), 409: problem('The name is taken'), ...COMMON_ERRORS },
  }), { action: 'user.create', target: newUserTarget }), async (c) => {
    const created = await createUser(c.get('master'), c.get('caller')!, c.req.valid('json'));
    setEtag(c, created.user.id, created.user.version);
    c.header('Location', `/api/v1/users/${created.user.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...userView(created.user), roles: created.bindings.map(roleBindingView), ...issuedTotpView(created.totp) }, 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/users/{id}', tags, summary: 'One user',
    request: { params: ID_PARAM },
    responses: { 200: json('The user', USER), ...COMMON_ERRORS },
  }), { action: 'user.read', target: userTarget }), async (c) => {
    const row = await repositories(c.get('master').store.db).users.get(c.req.valid('param').id);
    setEtag(c, row.id, row.version);
    return c.json(userView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'patch', path: '/users/{id}', tags, summary: 'Disable or enable a user, or set a new password',
    request: { params: ID_PARAM, headers: IF_MATCH, ...body(USER_CHANGES) },
    responses: { 200: json('Changed', USER), 409: problem('Disabling yourself'), 412: problem('Changed since read'), 428: problem('If-Match missing'), ...COMMON_ERRORS },
  }), { action: 'user.update', target: userTarget }), async (c) => {
    const { id } = c.req.valid('param');
    const row = await changeUser(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, true)!, c.req.valid('json'));
    setEtag(c, row.id, row.version);
    return c.json(userView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/users/{id}', tags, summary: 'Delete a user (not yourself); their tokens and sessions go with them',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Deleted' }, 409: problem('Deleting yourself'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'user.delete', target: userTarget }), async (c) => {
    const { id } = c.req.valid('param');
    await deleteUser(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, false));
    return c.body(null, 204);
  });

  return app;
}
