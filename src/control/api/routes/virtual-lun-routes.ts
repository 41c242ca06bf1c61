// /virtual-luns: a tenant's disks, carved from a physical LUN of its data center, attached to
// one VM at a time and kept when it goes. Every action's target is the LUN's tenant and the data
// center of its physical LUN, so a tenant's users see only their own.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createVirtualLun, deleteVirtualLun, renameVirtualLun } from '../../commands/virtual-lun-changes.js';
import { authorizedScopes } from '../../security/permissions.js';
import { repositories, type Repositories } from '../../store/repositories.js';
import type { VirtualLun, VirtualLunFilter } from '../../store/virtual-luns.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { LUN_NAME } from './physical-lun-routes.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';
import { intoTenant, onlyTenantOf, reaches } from './tenant-scoped.js';

const VIRTUAL_LUN = z.object({
  id: z.string(), tenantId: z.string(), dataCenterId: z.string(), hostId: z.string(), physicalLunId: z.string(), name: z.string(),
  sizeBytes: z.number().openapi({ description: 'Its virtual size; thin, it takes host space only as written' }),
  vmId: z.string().nullable().openapi({ description: 'The VM it is attached to, if any' }),
  createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('VirtualLun');

const NEW_VIRTUAL_LUN = z.object({
  tenantId: z.string().uuid(), dataCenterId: z.string().uuid(), name: LUN_NAME.openapi({ description: 'Unique in the tenant: lower-case letters, digits, dashes' }),
  sizeGiB: z.number().positive().max(16384).openapi({ description: 'Virtual size (fractions allowed)' }),
  physicalLunId: z.string().uuid().optional().openapi({ description: 'This physical LUN (for the data center\'s staff); otherwise the least provisioned with room' }),
}).strict().openapi('NewVirtualLun');

const CHANGES = z.object({ name: LUN_NAME }).strict().openapi('VirtualLunChanges');

const FILTER = PAGE_QUERY.extend({
  tenantId: z.string().uuid().optional(), physicalLunId: z.string().uuid().optional(), vmId: z.string().uuid().optional(),
  attached: z.enum(['true', 'false']).optional().openapi({ description: 'Only those attached to a VM, or only free ones' }),
});

type View = z.infer<typeof VIRTUAL_LUN>;

/** Views of LUNs with the host and data center of their physical LUNs, each read once. */
async function views(repos: Repositories, rows: VirtualLun[]): Promise<View[]> {
  const physical = new Map<string, Promise<{ data_center_id: string; host_id: string }>>();
  return Promise.all(rows.map(async (row) => {
    if (!physical.has(row.physical_lun_id)) physical.set(row.physical_lun_id, repos.physicalLuns.get(row.physical_lun_id));
    const lun = await physical.get(row.physical_lun_id)!;
    return {
      id: row.id, tenantId: row.tenant_id, dataCenterId: lun.data_center_id, hostId: lun.host_id, physicalLunId: row.physical_lun_id, name: row.name,
      sizeBytes: Number(row.size_bytes), vmId: row.vm_id, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
    };
  }));
}

const ofVirtualLun = async (c: Context<MasterEnv>) => {
  const repos = repositories(c.get('master').store.db);
  const [view] = await views(repos, [await repos.virtualLuns.get(pathId(c))]);
  return { dataCenterId: view!.dataCenterId, tenantId: view!.tenantId };
};

export function virtualLunRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['virtual-luns'];
  const one = async (c: Context<MasterEnv>, id: string) => {
    const repos = repositories(c.get('master').store.db);
    const [view] = await views(repos, [await repos.virtualLuns.get(id)]);
    setEtag(c, view!.id, view!.version);
    return view!;
  };

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/virtual-luns', tags, summary: 'The virtual LUNs the caller may see, by tenant, physical LUN, VM, attached or free',
    request: { query: FILTER },
    responses: { 200: json('A page of virtual LUNs', pageOf(VIRTUAL_LUN, 'VirtualLunPage')), ...COMMON_ERRORS },
  }), { action: 'virtual-lun.read', filtered: true }), async (c) => {
    const { limit, cursor, tenantId, physicalLunId, vmId, attached } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'virtual-lun.read');
    const filter: VirtualLunFilter = {
      ...(physicalLunId === undefined ? {} : { physical_lun_id: physicalLunId }),
      ...(vmId !== undefined ? { vm_id: vmId } : attached === 'false' ? { vm_id: null } : {}),
    };
    const tenant = tenantId ?? onlyTenantOf(reach);
    if (tenant !== undefined) filter.tenant_id = tenant;
    const repos = repositories(c.get('master').store.db);
    const page = await repos.virtualLuns.list(filter, { limit, cursor: cursor ?? null });
    const items = (await views(repos, page.items)).filter((view) => reaches(reach, view) && (attached !== 'true' || view.vmId !== null));
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/virtual-luns', tags, summary: 'Create a virtual LUN: a thin disk on a physical LUN of the data center with room',
    request: body(NEW_VIRTUAL_LUN),
    responses: { 201: json('Created', VIRTUAL_LUN), 409: problem('The name is taken, or no physical LUN has room (each one\'s reason in `rejected`)'), 503: problem('The host did not answer'), ...COMMON_ERRORS },
  }), { action: 'virtual-lun.create', target: intoTenant }), async (c) => {
    const row = await createVirtualLun(c.get('master'), c.get('caller')!, c.req.valid('json'));
    c.header('Location', `/api/v1/virtual-luns/${row.id}`);
    return c.json(await one(c, row.id), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/virtual-luns/{id}', tags, summary: 'One virtual LUN: its size, host and the VM it is attached to',
    request: { params: ID_PARAM },
    responses: { 200: json('The virtual LUN', VIRTUAL_LUN), ...COMMON_ERRORS },
  }), { action: 'virtual-lun.read', target: ofVirtualLun }), async (c) => c.json(await one(c, c.req.valid('param').id), 200));

  app.openapi(securedRoute(createRoute({
    method: 'patch', path: '/virtual-luns/{id}', tags, summary: 'Rename a virtual LUN',
    request: { params: ID_PARAM, headers: IF_MATCH, ...body(CHANGES) },
    responses: { 200: json('Changed', VIRTUAL_LUN), 409: problem('The name is taken'), 412: problem('Changed since read'), 428: problem('If-Match missing'), ...COMMON_ERRORS },
  }), { action: 'virtual-lun.update', target: ofVirtualLun }), async (c) => {
    const { id } = c.req.valid('param');
    await renameVirtualLun(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, true)!, c.req.valid('json').name);
    return c.json(await one(c, id), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/virtual-luns/{id}', tags, summary: 'Delete a virtual LUN attached to no VM, with its data',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Deleted' }, 409: problem('It is attached to a VM'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'virtual-lun.delete', target: ofVirtualLun }), async (c) => {
    const { id } = c.req.valid('param');
    await deleteVirtualLun(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, false));
    return c.body(null, 204);
  });

  return app;
}
