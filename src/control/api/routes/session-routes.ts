// Logging in and out of the web console and the CLI: a session in an HttpOnly cookie, and the
// CSRF token the page sends back with every change.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { setCookie } from 'hono/cookie';
import { logIn } from '../../commands/log-in.js';
import { appendAudit } from '../../store/audit-log.js';
import { repositories } from '../../store/repositories.js';
import { CSRF_COOKIE, SESSION_COOKIE, sourceIp } from '../authenticate.js';
import type { MasterEnv } from '../master-env.js';
import { PROBLEM_SCHEMA } from '../master-api-error.js';
import { publicRoute, securedRoute } from '../secured-route.js';
import { MasterApiError } from '../master-api-error.js';

const LOGIN = z.object({
  name: z.string().min(1).max(200),
  password: z.string().min(1).max(1024),
  totp: z.string().regex(/^\d{6}$/u).optional().openapi({ description: 'The current TOTP code' }),
  recoveryCode: z.string().max(64).optional().openapi({ description: 'One of the recovery codes, instead of a TOTP code' }),
}).strict().openapi('LoginRequest');

const WHO = z.object({
  user: z.object({ id: z.string(), name: z.string(), tenantId: z.string().nullable() }),
  roles: z.array(z.object({ role: z.string(), scopeKind: z.string(), scopeId: z.string().nullable() })),
  via: z.enum(['session', 'token']),
}).openapi('Session');

const LOGGED_IN = WHO.extend({
  csrfToken: z.string().openapi({ description: 'Send as X-CSRF-Token with every change made with the session cookie' }),
  expiresAt: z.string(),
}).openapi('LoggedIn');

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } } });

export function sessionRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(publicRoute(createRoute({
    method: 'post', path: '/session', tags: ['session'], summary: 'Log in with a name, password and TOTP code',
    request: { body: { required: true, content: { 'application/json': { schema: LOGIN } } } },
    responses: {
      201: { description: 'Logged in; the session cookie is set', content: { 'application/json': { schema: LOGGED_IN } } },
      401: problem('Wrong name, password or second factor'), 429: problem('Too many attempts, or the account is locked'),
    },
  })), async (c) => {
    const master = c.get('master');
    const done = await logIn(master, c.req.valid('json'), sourceIp(c));
    const maxAge = Math.floor(master.sessions.lifetimeMs / 1000);
    setCookie(c, SESSION_COOKIE, done.sessionToken, { path: '/', secure: true, httpOnly: true, sameSite: 'Strict', maxAge });
    setCookie(c, CSRF_COOKIE, done.csrfToken, { path: '/', secure: true, httpOnly: false, sameSite: 'Strict', maxAge });
    const bindings = await repositories(master.store.db).roleBindings.listForUser(done.user.id);
    return c.json({
      user: { id: done.user.id, name: done.user.name, tenantId: done.user.tenant_id },
      roles: bindings.map((b) => ({ role: b.role, scopeKind: b.scope_kind, scopeId: b.scope_id })),
      via: 'session' as const, csrfToken: done.csrfToken, expiresAt: done.expiresAt,
    }, 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/session', tags: ['session'], summary: 'Who is calling, with their roles',
    responses: { 200: { description: 'The caller', content: { 'application/json': { schema: WHO } } } },
  }), { action: 'session.read' }), (c) => {
    const caller = c.get('caller')!;
    return c.json({
      user: { id: caller.userId, name: caller.userName, tenantId: caller.tenantId ?? null },
      roles: caller.bindings.map((b) => ({ role: b.role, scopeKind: b.scope_kind, scopeId: b.scope_id })),
      via: caller.via,
    }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/session', tags: ['session'], summary: 'Log out: the session ends at once',
    responses: { 204: { description: 'Logged out' } },
  }), { action: 'session.delete' }), async (c) => {
    const caller = c.get('caller')!;
    if (caller.sessionId === undefined) throw new MasterApiError('invalid-request', 'this request came with an API token, not a session; revoke the token instead (DELETE /api/v1/tokens/{id})');
    const master = c.get('master');
    await master.store.transaction(async (tx) => {
      await repositories(tx).sessions.revoke(caller.sessionId!, new Date(master.clock.now()).toISOString());
      await appendAudit(tx, { actor_id: caller.userId, actor_name: caller.userName, action: 'logout', target: `session:${caller.sessionId}`, outcome: 'success', source_ip: caller.sourceIp });
    });
    setCookie(c, SESSION_COOKIE, '', { path: '/', secure: true, httpOnly: true, sameSite: 'Strict', maxAge: 0 });
    setCookie(c, CSRF_COOKIE, '', { path: '/', secure: true, sameSite: 'Strict', maxAge: 0 });
    return c.body(null, 204);
  });

  return app;
}
