// What the routes of a tenant's resources (VMs, virtual LUNs, networks) share: the target of a
// creation, read from its body, and the tenant a tenant user's list is narrowed to.

import type { Context } from 'hono';
import type { ScopeFilter } from '../../security/permissions.js';
import { repositories } from '../../store/repositories.js';
import { MasterApiError } from '../master-api-error.js';
import type { MasterEnv } from '../master-env.js';

/** For a creation, before the body is validated: the tenant and data center it names (which must exist). */
export const intoTenant = async (c: Context<MasterEnv>) => {
  const input = await c.req.json().catch(() => undefined) as { tenantId?: unknown; dataCenterId?: unknown } | undefined;
  for (const field of ['tenantId', 'dataCenterId'] as const) {
    if (typeof input?.[field] !== 'string') throw new MasterApiError('invalid-request', `json.${field}: required`, { field: `json.${field}` });
  }
  const repos = repositories(c.get('master').store.db);
  const tenant = await repos.tenants.get(input!.tenantId as string);
  const dc = await repos.dataCenters.get(input!.dataCenterId as string);
  return { tenantId: tenant.id, dataCenterId: dc.id };
};

/** A caller who reaches exactly one tenant (a tenant's user) lists that tenant's rows only, so pages are full. */
export function onlyTenantOf(reach: ScopeFilter): string | undefined {
  return !reach.everywhere && reach.dataCenterIds.length === 0 && reach.tenantIds.length === 1 ? reach.tenantIds[0] : undefined;
}

/** Whether a row of this data center and tenant is within reach. */
export function reaches(reach: ScopeFilter, row: { dataCenterId: string; tenantId: string }): boolean {
  return reach.everywhere || reach.dataCenterIds.includes(row.dataCenterId) || reach.tenantIds.includes(row.tenantId);
}
