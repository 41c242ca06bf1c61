// /physical-luns: hosts' storage that virtual LUNs are carved from, managed by the staff of the
// data center (tenants never see them). Every action's target is the LUN's data center.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { addPhysicalLun, removePhysicalLun } from '../../commands/physical-lun-changes.js';
import { authorizedScopes } from '../../security/permissions.js';
import type { PhysicalLun } from '../../store/physical-luns.js';
import { repositories, type Repositories } from '../../store/repositories.js';
import { VM_NAME_PATTERN } from '../../../host/vm-definition.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import { MasterApiError } from '../master-api-error.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';

export const LUN_NAME = z.string().regex(new RegExp(VM_NAME_PATTERN, 'u')).openapi({ description: 'Lower-case letters, digits, dashes' });

const PHYSICAL_LUN = z.object({
  id: z.string(), dataCenterId: z.string(), hostId: z.string(), name: z.string(), path: z.string().openapi({ description: 'Its directory on the host' }),
  capacityBytes: z.number().openapi({ description: 'Bytes its virtual LUNs\' images may take on the host' }),
  provisionedBytes: z.number().openapi({ description: 'The virtual sizes of its virtual LUNs, added up (thin: may exceed the capacity)' }),
  createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('PhysicalLun');

const NEW_PHYSICAL_LUN = z.object({
  hostId: z.string().uuid(), name: LUN_NAME,
  path: z.string().min(2).max(4096).regex(/^\//u).optional()
    .openapi({ description: 'A directory on the host, made if missing, or one that holds a physical LUN already. Absent: the host\'s own physical LUN of this name (`default`, in its data directory)' }),
  capacityBytes: z.number().int().min(2 ** 20).optional().openapi({ description: 'For a new one; default: the free space of its file system' }),
}).strict().openapi('NewPhysicalLun');

const FILTER = PAGE_QUERY.extend({ dataCenterId: z.string().uuid().optional(), hostId: z.string().uuid().optional() });

async function physicalLunView(repos: Repositories, row: PhysicalLun): Promise<z.infer<typeof PHYSICAL_LUN>> {
  return {
    id: row.id, dataCenterId: row.data_center_id, hostId: row.host_id, name: row.name, path: row.path, capacityBytes: Number(row.capacity_bytes),
    provisionedBytes: await repos.virtualLuns.provisionedBytes(row.id), createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
  };
}

const ofPhysicalLun = async (c: Context<MasterEnv>) => ({ dataCenterId: (await repositories(c.get('master').store.db).physicalLuns.get(pathId(c))).data_center_id });

/** For an addition, before the body is validated: the data center of the host it names. */
const ontoHost = async (c: Context<MasterEnv>) => {
  const input = await c.req.json().catch(() => undefined) as { hostId?: unknown } | undefined;
  if (typeof input?.hostId !== 'string') throw new MasterApiError('invalid-request', 'json.hostId: the host the physical LUN is on is required', { field: 'json.hostId' });
  return { dataCenterId: (await repositories(c.get('master').store.db).hosts.get(input.hostId)).data_center_id };
};

export function physicalLunRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['physical-luns'];

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/physical-luns', tags, summary: 'The physical LUNs the caller may see, by data center and host',
    request: { query: FILTER },
    responses: { 200: json('A page of physical LUNs', pageOf(PHYSICAL_LUN, 'PhysicalLunPage')), ...COMMON_ERRORS },
  }), { action: 'physical-lun.read', filtered: true }), async (c) => {
    const { limit, cursor, dataCenterId, hostId } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'physical-lun.read');
    const repos = repositories(c.get('master').store.db);
    const page = await repos.physicalLuns.list({ ...(dataCenterId === undefined ? {} : { data_center_id: dataCenterId }), ...(hostId === undefined ? {} : { host_id: hostId }) }, { limit, cursor: cursor ?? null });
    const reached = page.items.filter((row) => reach.everywhere || reach.dataCenterIds.includes(row.data_center_id));
    linkNextPage(c, page.nextCursor);
    return c.json({ items: await Promise.all(reached.map((row) => physicalLunView(repos, row))), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/physical-luns', tags, summary: 'Add a physical LUN: a directory of the host that its agent carves virtual LUNs from',
    request: body(NEW_PHYSICAL_LUN),
    responses: { 201: json('Added', PHYSICAL_LUN), 409: problem('The name or directory is taken, or the host is down'), 503: problem('The host did not answer'), ...COMMON_ERRORS },
  }), { action: 'physical-lun.create', target: ontoHost }), async (c) => {
    const master = c.get('master');
    const row = await addPhysicalLun(master, c.get('caller')!, c.req.valid('json'));
    setEtag(c, row.id, row.version);
    c.header('Location', `/api/v1/physical-luns/${row.id}`);
    return c.json(await physicalLunView(repositories(master.store.db), row), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/physical-luns/{id}', tags, summary: 'One physical LUN, with what is provisioned on it',
    request: { params: ID_PARAM },
    responses: { 200: json('The physical LUN', PHYSICAL_LUN), ...COMMON_ERRORS },
  }), { action: 'physical-lun.read', target: ofPhysicalLun }), async (c) => {
    const repos = repositories(c.get('master').store.db);
    const row = await repos.physicalLuns.get(c.req.valid('param').id);
    setEtag(c, row.id, row.version);
    return c.json(await physicalLunView(repos, row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/physical-luns/{id}', tags, summary: 'Remove a physical LUN no virtual LUN is carved from (its directory stays on the host)',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Removed' }, 409: problem('Virtual LUNs remain on it'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'physical-lun.delete', target: ofPhysicalLun }), async (c) => {
    const { id } = c.req.valid('param');
    await removePhysicalLun(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, false));
    return c.body(null, 204);
  });

  return app;
}
