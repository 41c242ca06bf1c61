// /tenants: the owners of VMs, virtual LUNs, networks and their own users (GuestUsers).

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MasterEnv } from '../master-env.js';
import { scopeRoutes } from './scope-routes.js';

export function tenantRoutes(): OpenAPIHono<MasterEnv> {
  return scopeRoutes({
    kind: 'tenant', path: '/tenants', schemaName: 'Tenant', noun: 'tenant',
    rows: (repos) => repos.tenants,
    scopeOf: (id) => ({ tenantId: id }),
    reachedIds: (reach) => reach.tenantIds,
    deleteConflict: 'Users, VMs, LUNs or networks still belong to it',
  });
}
