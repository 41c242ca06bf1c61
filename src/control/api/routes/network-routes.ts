// /networks: a tenant's networks in a data center, for its VMs' NICs. Every action's target is
// the network's tenant and data center.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createNetwork, deleteNetwork, renameNetwork } from '../../commands/network-changes.js';
import { authorizedScopes } from '../../security/permissions.js';
import type { Network, NetworkFilter } from '../../store/networks.js';
import { repositories } from '../../store/repositories.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { LUN_NAME } from './physical-lun-routes.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';
import { intoTenant, onlyTenantOf, reaches } from './tenant-scoped.js';

const KIND = z.enum(['switch', 'user']).openapi({
  description: 'switch: a segment of the tenant\'s own, shared only by its VMs on it (per host); user: NAT to the outside through the host\'s sockets, with an address by DHCP, a gateway and DNS',
});

const NETWORK = z.object({
  id: z.string(), tenantId: z.string(), dataCenterId: z.string(), name: z.string(), kind: KIND,
  createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('Network');

const NEW_NETWORK = z.object({
  tenantId: z.string().uuid(), dataCenterId: z.string().uuid(), name: LUN_NAME.openapi({ description: 'Unique in the tenant: lower-case letters, digits, dashes' }), kind: KIND,
}).strict().openapi('NewNetwork');

const CHANGES = z.object({ name: LUN_NAME }).strict().openapi('NetworkChanges');

const FILTER = PAGE_QUERY.extend({ tenantId: z.string().uuid().optional(), dataCenterId: z.string().uuid().optional() });

function networkView(row: Network): z.infer<typeof NETWORK> {
  return { id: row.id, tenantId: row.tenant_id, dataCenterId: row.data_center_id, name: row.name, kind: row.kind, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version };
}

const ofNetwork = async (c: Context<MasterEnv>) => {
  const row = await repositories(c.get('master').store.db).networks.get(pathId(c));
  return { dataCenterId: row.data_center_id, tenantId: row.tenant_id };
};

export function networkRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const tags = ['networks'];
  const reply = (c: Context<MasterEnv>, row: Network) => {
    setEtag(c, row.id, row.version);
    return networkView(row);
  };

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/networks', tags, summary: 'The networks the caller may see, by tenant and data center',
    request: { query: FILTER },
    responses: { 200: json('A page of networks', pageOf(NETWORK, 'NetworkPage')), ...COMMON_ERRORS },
  }), { action: 'network.read', filtered: true }), async (c) => {
    const { limit, cursor, tenantId, dataCenterId } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'network.read');
    const filter: NetworkFilter = dataCenterId === undefined ? {} : { data_center_id: dataCenterId };
    const tenant = tenantId ?? onlyTenantOf(reach);
    if (tenant !== undefined) filter.tenant_id = tenant;
    const page = await repositories(c.get('master').store.db).networks.list(filter, { limit, cursor: cursor ?? null });
    const items = page.items.map(networkView).filter((view) => reaches(reach, view));
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/networks', tags, summary: 'Create a network for the tenant\'s VMs',
    request: body(NEW_NETWORK),
    responses: { 201: json('Created', NETWORK), 409: problem('The name is taken'), ...COMMON_ERRORS },
  }), { action: 'network.create', target: intoTenant }), async (c) => {
    const { tenantId, dataCenterId, name, kind } = c.req.valid('json');
    const row = await createNetwork(c.get('master'), c.get('caller')!, { tenant_id: tenantId, data_center_id: dataCenterId, name, kind });
    c.header('Location', `/api/v1/networks/${row.id}`);
    return c.json(reply(c, row), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/networks/{id}', tags, summary: 'One network',
    request: { params: ID_PARAM },
    responses: { 200: json('The network', NETWORK), ...COMMON_ERRORS },
  }), { action: 'network.read', target: ofNetwork }), async (c) => c.json(reply(c, await repositories(c.get('master').store.db).networks.get(c.req.valid('param').id)), 200));

  app.openapi(securedRoute(createRoute({
    method: 'patch', path: '/networks/{id}', tags, summary: 'Rename a network',
    request: { params: ID_PARAM, headers: IF_MATCH, ...body(CHANGES) },
    responses: { 200: json('Changed', NETWORK), 409: problem('The name is taken'), 412: problem('Changed since read'), 428: problem('If-Match missing'), ...COMMON_ERRORS },
  }), { action: 'network.update', target: ofNetwork }), async (c) => {
    const { id } = c.req.valid('param');
    return c.json(reply(c, await renameNetwork(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, true)!, c.req.valid('json').name)), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/networks/{id}', tags, summary: 'Delete a network no VM is on',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Deleted' }, 409: problem('VMs are on it'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'network.delete', target: ofNetwork }), async (c) => {
    const { id } = c.req.valid('param');
    await deleteNetwork(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, false));
    return c.body(null, 204);
  });

  return app;
}
