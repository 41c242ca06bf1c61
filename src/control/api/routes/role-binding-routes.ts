// /users/{id}/roles: who may do what where. Granting and revoking are authorized on the scope
// of the binding itself, so an administrator of one tenant grants roles on that tenant only.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { findBinding, grantRole, revokeRole } from '../../commands/grant-role.js';
import { bindingScope } from '../../commands/user-scope.js';
import type { Target } from '../../security/permissions.js';
import { repositories } from '../../store/repositories.js';
import type { MasterEnv } from '../master-env.js';
import { securedRoute } from '../secured-route.js';
import { GRANTED_ROLE, issuedTotpView, ROLE_BINDING, ROLE_BINDING_REQUEST, roleBindingView } from './people-schemas.js';
import { body, COMMON_ERRORS, ID_PARAM, json, pathId, problem } from './resource-route.js';
import { userTarget } from './user-routes.js';

const BINDING_PARAMS = ID_PARAM.extend({
  bindingId: z.string().uuid().openapi({ param: { name: 'bindingId', in: 'path' }, description: 'The role binding\'s id' }),
});

/** The scope the body asks for, once the user is known to exist; read before validation, so anything unreadable is global. */
async function grantTarget(c: Context<MasterEnv>): Promise<Target> {
  const repos = repositories(c.get('master').store.db);
  await repos.users.get(pathId(c));
  const input: unknown = await c.req.json().catch(() => undefined);
  const { scopeKind, scopeId } = (typeof input === 'object' && input !== null ? input : {}) as { scopeKind?: unknown; scopeId?: unknown };
  if (typeof scopeId !== 'string') return {};
  if (scopeKind === 'data-center') return { dataCenterId: (await repos.dataCenters.get(scopeId)).id };
  if (scopeKind === 'tenant') return { tenantId: (await repos.tenants.get(scopeId)).id };
  return {};
}

async function revokeTarget(c: Context<MasterEnv>): Promise<Target> {
  return bindingScope(await findBinding(repositories(c.get('master').store.db), pathId(c), c.req.param('bindingId') ?? ''));
}

export function roleBindingRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['roles'];

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/users/{id}/roles', tags, summary: 'A user\'s role bindings',
    request: { params: ID_PARAM },
    responses: { 200: json('The bindings', z.object({ items: z.array(ROLE_BINDING) }).openapi('RoleBindingList')), ...COMMON_ERRORS },
  }), { action: 'role.read', target: userTarget }), async (c) => {
    const bindings = await repositories(c.get('master').store.db).roleBindings.listForUser(c.req.valid('param').id);
    return c.json({ items: bindings.map(roleBindingView) }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/users/{id}/roles', tags, summary: 'Grant a role; a new administrator\'s second factor is in the answer, once',
    request: { params: ID_PARAM, ...body(ROLE_BINDING_REQUEST) },
    responses: { 201: json('Granted', GRANTED_ROLE), 409: problem('The user already has this binding'), ...COMMON_ERRORS },
  }), { action: 'role.grant', target: grantTarget }), async (c) => {
    const { id } = c.req.valid('param');
    const granted = await grantRole(c.get('master'), c.get('caller')!, id, c.req.valid('json'));
    c.header('Location', `/api/v1/users/${id}/roles/${granted.binding.id}`);
    c.header('Cache-Control', 'no-store');
    return c.json({ ...roleBindingView(granted.binding), ...issuedTotpView(granted.totp) }, 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/users/{id}/roles/{bindingId}', tags, summary: 'Revoke a role',
    request: { params: BINDING_PARAMS },
    responses: { 204: { description: 'Revoked' }, ...COMMON_ERRORS },
  }), { action: 'role.revoke', target: revokeTarget }), async (c) => {
    const { id, bindingId } = c.req.valid('param');
    await revokeRole(c.get('master'), c.get('caller')!, id, bindingId);
    return c.body(null, 204);
  });

  return app;
}
