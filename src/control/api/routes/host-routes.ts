// /hosts: host agents registered with the master, with what their heartbeats report. Every
// action's target is the host's data center.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { changeHost, removeHost } from '../../commands/change-host.js';
import { registerHost } from '../../commands/register-host.js';
import type { AgentHostInfo } from '../../hosts/agent-api-types.js';
import { authorizedScopes } from '../../security/permissions.js';
import type { Host } from '../../store/hosts.js';
import { repositories } from '../../store/repositories.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import { MasterApiError } from '../master-api-error.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';

const NAME = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/u).openapi({ description: 'Lower-case letters, digits, dots and dashes' });
const STATE = z.enum(['up', 'down', 'maintenance']);

export const HOST = z.object({
  id: z.string(), dataCenterId: z.string(), name: z.string(), url: z.string(),
  state: STATE, stateReason: z.string().openapi({ description: 'Why: the last heartbeat\'s error, or who set maintenance' }),
  resources: z.object({
    cores: z.number().int(), memoryBudgetMiB: z.number(), memoryChargedMiB: z.number().nullable(),
    storageCapacityBytes: z.number(), storageFreeBytes: z.number().nullable(),
    vms: z.record(z.string(), z.number()).openapi({ description: 'The agent\'s VMs by state' }),
  }),
  lastHeartbeatAt: z.string().nullable(), createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('Host');

const NEW_HOST = z.object({
  dataCenterId: z.string().uuid(), name: NAME,
  url: z.string().regex(/^tcp:[^\s]+:\d{1,5}$/u).openapi({ description: 'The agent\'s address, tcp:HOST:PORT as its --listen gives it' }),
  token: z.string().min(16).max(1024).openapi({ description: 'The agent\'s bearer token (its --token-file); kept sealed, never shown again' }),
}).strict().openapi('NewHost');

const HOST_CHANGES = z.object({
  name: NAME.optional(),
  maintenance: z.boolean().optional().openapi({ description: 'In maintenance a host takes no new VMs and is never marked down' }),
}).strict().openapi('HostChanges');

const HOST_FILTER = PAGE_QUERY.extend({ dataCenterId: z.string().uuid().optional(), state: STATE.optional() });

export function hostView(row: Host): z.infer<typeof HOST> {
  const report = JSON.parse(row.last_report) as Partial<AgentHostInfo>;
  return {
    id: row.id, dataCenterId: row.data_center_id, name: row.name, url: row.url, state: row.state, stateReason: row.state_reason,
    resources: {
      cores: row.cpus, memoryBudgetMiB: row.memory_mib, memoryChargedMiB: report.memory?.chargedMiB ?? null,
      storageCapacityBytes: row.storage_bytes, storageFreeBytes: report.storage?.free ?? null,
      vms: Object.fromEntries(Object.entries(report.vms?.byState ?? {}).map(([state, count]) => [state, Number(count)])),
    },
    lastHeartbeatAt: row.last_heartbeat_at, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
  };
}

const ofHost = async (c: Context<MasterEnv>) => {
  const row = await repositories(c.get('master').store.db).hosts.get(pathId(c));
  return { dataCenterId: row.data_center_id };
};

/** For a registration, before the body is validated: the data center it names (which must exist). */
const intoDataCenter = async (c: Context<MasterEnv>) => {
  const input = await c.req.json().catch(() => undefined) as { dataCenterId?: unknown } | undefined;
  if (typeof input?.dataCenterId !== 'string') throw new MasterApiError('invalid-request', 'json.dataCenterId: the data center to register the host in is required', { field: 'json.dataCenterId' });
  const dc = await repositories(c.get('master').store.db).dataCenters.get(input.dataCenterId);
  return { dataCenterId: dc.id };
};

export function hostRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/hosts', tags: ['hosts'], summary: 'The hosts the caller may see, by data center and state',
    request: { query: HOST_FILTER },
    responses: { 200: json('A page of hosts', pageOf(HOST, 'HostPage')), ...COMMON_ERRORS },
  }), { action: 'host.read', filtered: true }), async (c) => {
    const { limit, cursor, dataCenterId, state } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'host.read');
    const page = await repositories(c.get('master').store.db).hosts.list({ ...(dataCenterId === undefined ? {} : { data_center_id: dataCenterId }), ...(state === undefined ? {} : { state }) }, { limit, cursor: cursor ?? null });
    const items = page.items.filter((row) => reach.everywhere || reach.dataCenterIds.includes(row.data_center_id)).map(hostView);
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/hosts', tags: ['hosts'], summary: 'Register a host agent (it must answer GET /host with the token)',
    request: body(NEW_HOST),
    responses: { 201: json('Registered', HOST), 409: problem('The name is taken'), ...COMMON_ERRORS },
  }), { action: 'host.create', target: intoDataCenter }), async (c) => {
    const row = await registerHost(c.get('master'), c.get('caller')!, c.req.valid('json'));
    setEtag(c, row.id, row.version);
    c.header('Location', `/api/v1/hosts/${row.id}`);
    return c.json(hostView(row), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/hosts/{id}', tags: ['hosts'], summary: 'One host: its state and why, resources and last heartbeat',
    request: { params: ID_PARAM },
    responses: { 200: json('The host', HOST), ...COMMON_ERRORS },
  }), { action: 'host.read', target: ofHost }), async (c) => {
    const row = await repositories(c.get('master').store.db).hosts.get(c.req.valid('param').id);
    setEtag(c, row.id, row.version);
    return c.json(hostView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'patch', path: '/hosts/{id}', tags: ['hosts'], summary: 'Rename a host, or put it in or out of maintenance',
    request: { params: ID_PARAM, headers: IF_MATCH, ...body(HOST_CHANGES) },
    responses: { 200: json('Changed', HOST), 409: problem('The name is taken'), 412: problem('Changed since read'), 428: problem('If-Match missing'), ...COMMON_ERRORS },
  }), { action: 'host.update', target: ofHost }), async (c) => {
    const { id } = c.req.valid('param');
    const row = await changeHost(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, true)!, c.req.valid('json'));
    setEtag(c, row.id, row.version);
    return c.json(hostView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/hosts/{id}', tags: ['hosts'], summary: 'Unregister a host with no VMs placed on it',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Unregistered' }, 409: problem('VMs or physical LUNs are still on it'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'host.delete', target: ofHost }), async (c) => {
    const { id } = c.req.valid('param');
    await removeHost(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, false));
    return c.body(null, 204);
  });

  return app;
}
