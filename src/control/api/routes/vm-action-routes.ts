// /vms/{id}/snapshot and /vms/{id}/migrate: a VM's long actions beside starting and stopping,
// each answered 202 with the operation to follow; and /vms/{id}/console, documented here but
// served as a WebSocket by console-proxy.ts. The VM is the target of every permission.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { migrateVm } from '../../commands/migrate-vm.js';
import { snapshotVm } from '../../commands/snapshot-vm.js';
import type { Operation } from '../../store/operations.js';
import { VM_NAME_PATTERN } from '../../../host/vm-definition.js';
import { MasterApiError } from '../master-api-error.js';
import type { MasterEnv } from '../master-env.js';
import { securedRoute } from '../secured-route.js';
import { OPERATION, operationView } from './operation-routes.js';
import { body, COMMON_ERRORS, ID_PARAM, json, problem } from './resource-route.js';
import { ofVm } from './vm-routes.js';

const SNAPSHOT = z.object({
  name: z.string().regex(new RegExp(VM_NAME_PATTERN, 'u')).optional().openapi({ description: 'A label for the snapshot, named in the operation\'s result (default: the time)' }),
}).strict().openapi('SnapshotRequest', { description: 'The file is one the host agent names under its own data directory' });

const MIGRATE = z.object({
  hostId: z.string().uuid().openapi({ description: 'A host of the VM\'s data center that is up and has room for it' }),
}).strict().openapi('MigrateRequest');

function accepted(c: Context<MasterEnv>, op: Operation) {
  c.header('Location', `/api/v1/operations/${op.id}`);
  return c.json(operationView(op), 202);
}

export function vmActionRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/vms/{id}/snapshot', tags: ['vms'], summary: 'Save a whole-VM snapshot on its host: 202 with the operation to follow',
    request: { params: ID_PARAM, body: { required: false, content: { 'application/json': { schema: SNAPSHOT } } } },
    responses: { 202: json('Under way', OPERATION), 409: problem('The VM is not running or paused, or busy'), ...COMMON_ERRORS },
  }), { action: 'vm.snapshot', target: ofVm }), async (c) => {
    const request = (c.req.valid('json') ?? {}) as z.infer<typeof SNAPSHOT>;
    return accepted(c, await snapshotVm(c.get('master'), c.get('caller')!, c.req.valid('param').id, request));
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/vms/{id}/migrate', tags: ['vms'], summary: 'Move the running VM live to another host of its data center: 202 with the operation to follow',
    request: { params: ID_PARAM, ...body(MIGRATE) },
    responses: { 202: json('Under way', OPERATION), 409: problem('The VM is not running, or the host is not of its data center, down or without room (its reason in `rejected`)'), ...COMMON_ERRORS },
  }), { action: 'vm.migrate', target: ofVm }), async (c) => {
    return accepted(c, await migrateVm(c.get('master'), c.get('caller')!, c.req.valid('param').id, c.req.valid('json')));
  });

  // The upgrade never reaches this app (the server hands it to the console proxy, which checks
  // the same permission); a plain GET is told what to do instead.
  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/vms/{id}/console', tags: ['vms'],
    summary: 'The VM\'s serial console as a WebSocket (binary frames both ways); opening it is audited. A request without the upgrade gets 426',
    request: { params: ID_PARAM },
    responses: { 101: { description: 'Switching to the WebSocket protocol' }, 409: problem('The VM is on no host, or its agent refused'), 426: problem('Not a WebSocket upgrade'), ...COMMON_ERRORS },
  }), { action: 'vm.console', target: ofVm }), () => {
    throw new MasterApiError('upgrade-required', 'the console is a WebSocket: open it with an Upgrade: websocket request');
  });

  return app;
}
