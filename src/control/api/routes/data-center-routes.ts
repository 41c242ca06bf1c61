// /data-centers: the top of the model; hosts, LUNs, networks and VMs live in one.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { recordChange } from '../../commands/record-change.js';
import { authorizedScopes } from '../../security/permissions.js';
import type { DataCenter } from '../../store/data-centers.js';
import { repositories } from '../../store/repositories.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';

const NAME = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/u).openapi({ description: 'Lower-case letters, digits, dots and dashes' });

export const DATA_CENTER = z.object({
  id: z.string(), name: z.string(), description: z.string(), createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('DataCenter');

const NEW_DATA_CENTER = z.object({ name: NAME, description: z.string().max(1000).optional() }).strict().openapi('NewDataCenter');
const DATA_CENTER_CHANGES = z.object({ name: NAME.optional(), description: z.string().max(1000).optional() }).strict().openapi('DataCenterChanges');

export function dataCenterView(row: DataCenter): z.infer<typeof DATA_CENTER> {
  return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version };
}

const inDataCenter = async (c: Context<MasterEnv>) => {
  const row = await repositories(c.get('master').store.db).dataCenters.get(pathId(c));
  return { dataCenterId: row.id };
};

export function dataCenterRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/data-centers', tags: ['data-centers'], summary: 'The data centers the caller may see',
    request: { query: PAGE_QUERY },
    responses: { 200: json('A page of data centers', pageOf(DATA_CENTER, 'DataCenterPage')), ...COMMON_ERRORS },
  }), { action: 'data-center.read' }), async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'data-center.read');
    const page = await repositories(c.get('master').store.db).dataCenters.list({ limit, cursor: cursor ?? null });
    const items = page.items.filter((row) => reach.everywhere || reach.dataCenterIds.includes(row.id)).map(dataCenterView);
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/data-centers', tags: ['data-centers'], summary: 'Create a data center',
    request: body(NEW_DATA_CENTER),
    responses: { 201: json('Created', DATA_CENTER), 409: problem('The name is taken'), ...COMMON_ERRORS },
  }), { action: 'data-center.create' }), async (c) => {
    const input = c.req.valid('json');
    const row = await recordChange(c.get('master'), c.get('caller')!, {
      action: 'data-center.create', resource: 'data-center',
      apply: async (repos) => {
        const created = await repos.dataCenters.create(input);
        return { result: created, id: created.id, scope: { dataCenterId: created.id }, detail: { name: created.name } };
      },
    });
    setEtag(c, row.id, row.version);
    c.header('Location', `/api/v1/data-centers/${row.id}`);
    return c.json(dataCenterView(row), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/data-centers/{id}', tags: ['data-centers'], summary: 'One data center',
    request: { params: ID_PARAM },
    responses: { 200: json('The data center', DATA_CENTER), ...COMMON_ERRORS },
  }), { action: 'data-center.read', target: inDataCenter }), async (c) => {
    const row = await repositories(c.get('master').store.db).dataCenters.get(c.req.valid('param').id);
    setEtag(c, row.id, row.version);
    return c.json(dataCenterView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'patch', path: '/data-centers/{id}', tags: ['data-centers'], summary: 'Rename or describe a data center',
    request: { params: ID_PARAM, headers: IF_MATCH, ...body(DATA_CENTER_CHANGES) },
    responses: { 200: json('Changed', DATA_CENTER), 409: problem('The name is taken'), 412: problem('Changed since read'), 428: problem('If-Match missing'), ...COMMON_ERRORS },
  }), { action: 'data-center.update', target: inDataCenter }), async (c) => {
    const { id } = c.req.valid('param');
    const expected = ifMatchVersion(c, id, true)!;
    const changes = c.req.valid('json');
    const row = await recordChange(c.get('master'), c.get('caller')!, {
      action: 'data-center.update', resource: 'data-center',
      apply: async (repos) => ({ result: await repos.dataCenters.update(id, expected, changes), id, scope: { dataCenterId: id }, detail: changes }),
    });
    setEtag(c, row.id, row.version);
    return c.json(dataCenterView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/data-centers/{id}', tags: ['data-centers'], summary: 'Delete an empty data center',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Deleted' }, 409: problem('Hosts, LUNs, networks or VMs are still in it'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'data-center.delete', target: inDataCenter }), async (c) => {
    const { id } = c.req.valid('param');
    const expected = ifMatchVersion(c, id, false);
    await recordChange(c.get('master'), c.get('caller')!, {
      action: 'data-center.delete', resource: 'data-center',
      apply: async (repos) => {
        const row = await repos.dataCenters.get(id);
        if (expected !== null && row.version !== expected) await repos.dataCenters.update(id, expected, {});
        await repos.dataCenters.delete(id);
        return { result: null, id, scope: { dataCenterId: id }, detail: { name: row.name } };
      },
    });
    return c.body(null, 204);
  });

  return app;
}
