// Every route of the master declares who may call it, once, beside its schema: an action
// checked against the caller's roles (deny by default), or `publicRoute` for the few that
// need no login. The app refuses to start with a route that declares neither.

import type { RouteConfig } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { authorize, authorizedScopes, type Action, type Target } from '../security/permissions.js';
import type { Caller } from './caller.js';
import type { MasterEnv } from './master-env.js';
import { MasterApiError } from './master-api-error.js';

export interface Permission {
  /** '<resource>.<verb>', e.g. 'vm.start'. */
  action: Action;
  /**
   * Where the target lives (loads it: a missing target is a 404, and so is one outside every
   * scope where the caller may do this, so other tenants' ids reveal nothing). Omitted for collections, whose lists the handler filters, and
   * for actions on the master as a whole.
   */
  target?: (c: Context<MasterEnv>) => Promise<Target> | Target;
  /**
   * A list the handler filters with authorizedScopes: allowed to anyone with the action in some
   * scope (an operator of one data center lists that data center), where without a target the
   * action would be checked on the global scope.
   */
  filtered?: true;
}

/** Kept on the route object under a symbol, which survives the copies the router makes of it. */
const ACCESS = Symbol('vireo.access');

export const SECURITY = [{ bearerToken: [] }, { sessionCookie: [] }];

export function securedRoute<R extends RouteConfig>(route: R, permission: Permission): R {
  return { ...route, security: SECURITY, middleware: [guard(permission)], [ACCESS]: permission };
}

export function publicRoute<R extends RouteConfig>(route: R): R {
  return { ...route, security: [], [ACCESS]: 'public' };
}

/** The route's declaration; undefined for a route made without securedRoute or publicRoute. */
export function declaredAccess(route: object): Permission | 'public' | undefined {
  return (route as { [ACCESS]?: Permission | 'public' })[ACCESS];
}

function guard(permission: Permission): MiddlewareHandler<MasterEnv> {
  return async (c, next) => {
    const caller = c.get('caller');
    if (caller === undefined) throw new MasterApiError('unauthenticated', 'log in (vireo login) or send Authorization: Bearer TOKEN');
    // A role without the action anywhere is refused before any target is looked up (or any body read).
    if (!mayAnywhere(caller, permission.action)) {
      const { reason } = authorize(caller, permission.action, {}) as { reason?: string };
      throw new MasterApiError('forbidden', `${caller.userName} may not ${permission.action}: ${reason ?? 'no role grants it'}`, { action: permission.action });
    }
    if (permission.filtered !== true) {
      const target = permission.target === undefined ? {} : await permission.target(c);
      const verdict = authorize(caller, permission.action, target);
      if (!verdict.allowed && permission.target !== undefined) throw new MasterApiError('not-found', `no such resource: ${c.req.path}`);
      if (!verdict.allowed) {
        throw new MasterApiError('forbidden', `${caller.userName} may not ${permission.action}: ${verdict.reason}`, { action: permission.action });
      }
    }
    await next();
  };
}

function mayAnywhere(caller: Caller, action: Action): boolean {
  const reach = authorizedScopes(caller, action);
  return reach.everywhere || reach.dataCenterIds.length > 0 || reach.tenantIds.length > 0;
}
