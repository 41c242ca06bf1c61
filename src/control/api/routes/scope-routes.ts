// Data centers and tenants have the same resource shape (a unique name, a description, role
// bindings scoped to them), so one set of routes serves both: a paged list of those the caller
// may read, create (201, ETag, Location), get (ETag), PATCH (If-Match), DELETE.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { recordChange } from '../../commands/record-change.js';
import { authorizedScopes, type Action, type ScopeFilter, type Target } from '../../security/permissions.js';
import type { Page, PageRequest } from '../../store/page.js';
import { repositories, type Repositories } from '../../store/repositories.js';
import type { NewScope, ScopeChanges } from '../../store/scope-repository.js';
import type { Row } from '../../store/table-repository.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';

export const SCOPE_NAME = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/u).openapi({ description: 'Lower-case letters, digits, dots and dashes' });

export type ScopeRow = Row<'data_centers' | 'tenants'>;

interface ScopeRows {
  get(id: string): Promise<ScopeRow>;
  create(input: NewScope): Promise<ScopeRow>;
  update(id: string, expectedVersion: number, changes: ScopeChanges): Promise<ScopeRow>;
  delete(id: string): Promise<void>;
  list(page?: PageRequest): Promise<Page<ScopeRow>>;
}

export interface ScopeResource {
  /** The resource of its actions ('tenant.read') and audit entries. */
  kind: 'data-center' | 'tenant';
  /** The collection's path: '/tenants'. */
  path: string;
  /** The OpenAPI schema's name: 'Tenant' (also NewTenant, TenantChanges, TenantPage). */
  schemaName: string;
  /** For summaries: 'tenant'. */
  noun: string;
  rows(repos: Repositories): ScopeRows;
  /** Where one of them sits for authorization: itself. */
  scopeOf(id: string): Target;
  /** The ids of those a filter reaches. */
  reachedIds(filter: ScopeFilter): string[];
  /** What keeps one from being deleted. */
  deleteConflict: string;
}

export const scopeSchema = (name: string) => z.object({
  id: z.string(), name: z.string(), description: z.string(), createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi(name);

export function scopeView(row: ScopeRow) {
  return { id: row.id, name: row.name, description: row.description, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version };
}

export function scopeRoutes(resource: ScopeResource): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();
  const { kind, path, noun } = resource;
  const action = (verb: 'read' | 'create' | 'update' | 'delete') => `${kind}.${verb}` as Action;
  const tags = [`${kind}s`];
  const VIEW = scopeSchema(resource.schemaName);
  const NEW = z.object({ name: SCOPE_NAME, description: z.string().max(1000).optional() }).strict().openapi(`New${resource.schemaName}`);
  const CHANGES = z.object({ name: SCOPE_NAME.optional(), description: z.string().max(1000).optional() }).strict().openapi(`${resource.schemaName}Changes`);
  const rows = (c: Context<MasterEnv>) => resource.rows(repositories(c.get('master').store.db));
  const target = async (c: Context<MasterEnv>) => resource.scopeOf((await rows(c).get(pathId(c))).id);

  app.openapi(securedRoute(createRoute({
    method: 'get', path, tags, summary: `The ${noun}s the caller may see`,
    request: { query: PAGE_QUERY },
    responses: { 200: json(`A page of ${noun}s`, pageOf(VIEW, `${resource.schemaName}Page`)), ...COMMON_ERRORS },
  }), { action: action('read'), filtered: true }), async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, action('read'));
    const page = await rows(c).list({ limit, cursor: cursor ?? null });
    const items = page.items.filter((row) => reach.everywhere || resource.reachedIds(reach).includes(row.id)).map(scopeView);
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path, tags, summary: `Create a ${noun}`,
    request: body(NEW),
    responses: { 201: json('Created', VIEW), 409: problem('The name is taken'), ...COMMON_ERRORS },
  }), { action: action('create') }), async (c) => {
    const input = c.req.valid('json');
    const row = await recordChange(c.get('master'), c.get('caller')!, {
      action: action('create'), resource: kind,
      apply: async (repos) => {
        const created = await resource.rows(repos).create(input);
        return { result: created, id: created.id, scope: resource.scopeOf(created.id), detail: { name: created.name } };
      },
    });
    setEtag(c, row.id, row.version);
    c.header('Location', `/api/v1${path}/${row.id}`);
    return c.json(scopeView(row), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: `${path}/{id}`, tags, summary: `One ${noun}`,
    request: { params: ID_PARAM },
    responses: { 200: json(`The ${noun}`, VIEW), ...COMMON_ERRORS },
  }), { action: action('read'), target }), async (c) => {
    const row = await rows(c).get(c.req.valid('param').id);
    setEtag(c, row.id, row.version);
    return c.json(scopeView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'patch', path: `${path}/{id}`, tags, summary: `Rename or describe a ${noun}`,
    request: { params: ID_PARAM, headers: IF_MATCH, ...body(CHANGES) },
    responses: { 200: json('Changed', VIEW), 409: problem('The name is taken'), 412: problem('Changed since read'), 428: problem('If-Match missing'), ...COMMON_ERRORS },
  }), { action: action('update'), target }), async (c) => {
    const { id } = c.req.valid('param');
    const expected = ifMatchVersion(c, id, true)!;
    const changes = c.req.valid('json');
    const row = await recordChange(c.get('master'), c.get('caller')!, {
      action: action('update'), resource: kind,
      apply: async (repos) => ({ result: await resource.rows(repos).update(id, expected, changes), id, scope: resource.scopeOf(id), detail: changes }),
    });
    setEtag(c, row.id, row.version);
    return c.json(scopeView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: `${path}/{id}`, tags, summary: `Delete an empty ${noun}`,
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Deleted' }, 409: problem(resource.deleteConflict), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: action('delete'), target }), async (c) => {
    const { id } = c.req.valid('param');
    const expected = ifMatchVersion(c, id, false);
    await recordChange(c.get('master'), c.get('caller')!, {
      action: action('delete'), resource: kind,
      apply: async (repos) => {
        const scopeRows = resource.rows(repos);
        const row = await scopeRows.get(id);
        if (expected !== null && row.version !== expected) await scopeRows.update(id, expected, {});
        await scopeRows.delete(id);
        return { result: null, id, scope: resource.scopeOf(id), detail: { name: row.name } };
      },
    });
    return c.body(null, 204);
  });

  return app;
}
