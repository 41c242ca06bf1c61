// /operations/{id}: a long action's progress, polled, or waited on with ?wait=SECONDS (long
// poll: the answer comes when it ends or the time is up). Readable where its target is.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Target } from '../../security/permissions.js';
import type { Operation } from '../../store/operations.js';
import { repositories } from '../../store/repositories.js';
import type { MasterEnv } from '../master-env.js';
import { securedRoute } from '../secured-route.js';
import { COMMON_ERRORS, ID_PARAM, json, pathId } from './resource-route.js';

export const MAX_WAIT_SECONDS = 60;

export const OPERATION = z.object({
  id: z.string(), kind: z.string().openapi({ description: 'e.g. vm.start' }), targetKind: z.string(), targetId: z.string(),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']), progress: z.number().openapi({ description: '0 to 1' }), message: z.string(),
  error: z.record(z.string(), z.unknown()).nullable().openapi({ description: 'Problem details when it failed' }),
  createdAt: z.string(), updatedAt: z.string(), finishedAt: z.string().nullable(), version: z.number().int(),
}).openapi('Operation');

export function operationView(row: Operation): z.infer<typeof OPERATION> {
  return {
    id: row.id, kind: row.kind, targetKind: row.target_kind, targetId: row.target_id, state: row.state, progress: row.progress, message: row.message,
    error: row.error === null ? null : JSON.parse(row.error) as Record<string, unknown>,
    createdAt: row.created_at, updatedAt: row.updated_at, finishedAt: row.finished_at, version: row.version,
  };
}

/** Where an operation lives: its VM's tenant and data center (an operation on a VM since deleted: global only). */
const ofOperation = async (c: Context<MasterEnv>): Promise<Target> => {
  const repos = repositories(c.get('master').store.db);
  const op = await repos.operations.get(pathId(c));
  if (op.target_kind !== 'vm') return {};
  const vm = await repos.virtualMachines.get(op.target_id).catch(() => undefined);
  return vm === undefined ? {} : { dataCenterId: vm.data_center_id, tenantId: vm.tenant_id };
};

export function operationRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/operations/{id}', tags: ['operations'], summary: 'A long action: state, progress, error; ?wait=SECONDS waits for its end',
    request: {
      params: ID_PARAM,
      query: z.object({ wait: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).optional().openapi({ description: `Wait up to this many seconds (at most ${MAX_WAIT_SECONDS}) for the operation to end` }) }),
    },
    responses: { 200: json('The operation', OPERATION), ...COMMON_ERRORS },
  }), { action: 'operation.read', target: ofOperation }), async (c) => {
    const { id } = c.req.valid('param');
    const { wait } = c.req.valid('query');
    const master = c.get('master');
    if (wait !== undefined) await master.operations.waitForEnd(id, wait * 1000);
    return c.json(operationView(await repositories(master.store.db).operations.get(id)), 200);
  });

  return app;
}
