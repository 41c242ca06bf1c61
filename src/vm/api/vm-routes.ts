// Routes of the /vm resource: read the VM's status, pause, resume, stop it, ask its guest to shut
// down, and start the long actions (save, migrate) as operations.

import type { ApiRoute, RouteResult } from './api-route.js';
import { EMPTY_BODY, errorResponses, MIGRATE_REQUEST, OPERATION, SAVE_REQUEST, VM_STATUS } from './api-schemas.js';
import { parseMigrationTarget } from './migration-target.js';
import type { JsonSchema } from './json-schema.js';
import type { OperationKind, OperationRegistry, OperationWork } from './operation-registry.js';
import { VmApiError } from './vm-api-error.js';
import type { VmController } from './vm-controller.js';

export function vmRoutes(controller: VmController, operations: OperationRegistry): ApiRoute[] {
  const status = (): RouteResult => ({ status: 200, body: controller.status() });
  /** POST /vm/KIND: checks the body (`prepare` throws on a bad one) and starts the operation it returns. */
  const longAction = (kind: OperationKind, summary: string, description: string, schema: JsonSchema, prepare: (body: unknown) => OperationWork): ApiRoute => ({
    method: 'POST',
    path: `/vm/${kind}`,
    operationId: `${kind}Vm`,
    summary,
    description: `Starts a ${kind} operation; follow it with GET /operations/{id}. ${description}`,
    body: { schema, required: true },
    responses: { 202: { description: `The ${kind} has started (Location: the operation)`, schema: OPERATION }, ...errorResponses(400, 409, 413, 415, 500) },
    async handle({ body }) {
      const work = prepare(body);
      if (controller.status().state === 'stopped') throw new VmApiError('invalid-state', `cannot ${kind}: the VM is stopped`);
      const op = operations.start(kind, work);
      return { status: 202, body: op, headers: { Location: `/operations/${op.id}` } };
    },
  });
  const stateChange = (verb: 'pause' | 'resume' | 'stop' | 'shutdown', summary: string, done = 'Done; the VM\'s status now', description?: string): ApiRoute => ({
    method: 'POST',
    path: `/vm/${verb}`,
    operationId: `${verb}Vm`,
    summary,
    ...(description !== undefined ? { description } : {}),
    body: { schema: EMPTY_BODY, required: false },
    responses: { 200: { description: done, schema: VM_STATUS }, ...errorResponses(400, 409, 413, 415, 500) },
    async handle() {
      await controller[verb]();
      return status();
    },
  });

  return [
    {
      method: 'GET',
      path: '/vm',
      operationId: 'getVm',
      summary: 'The VM\'s state, configuration, instructions retired and uptime',
      responses: { 200: { description: 'The VM\'s status', schema: VM_STATUS }, ...errorResponses(400, 413, 415, 500) },
      handle: async () => status(),
    },
    stateChange('pause', 'Pause the VM at an instruction boundary'),
    stateChange('resume', 'Continue a paused VM'),
    stateChange('stop', 'Power the VM off; answers once it has stopped'),
    stateChange(
      'shutdown',
      'Press the guest\'s power button so it shuts itself down',
      'Pressed; the VM\'s status now (it runs on until the guest powers off)',
      'Answers at once; the VM stops when the guest has shut down. 409 invalid-state unless the VM is running, 409 no-guest-driver when the guest never bound a driver to the button (use /vm/stop then).',
    ),
    longAction('save', 'Save a whole-VM snapshot to a file', 'The VM stays paused afterwards unless `resume` is true.', SAVE_REQUEST, (body) => {
      const { path, resume } = body as { path: string; resume?: boolean };
      return (progress) => controller.save(path, { resume: resume === true }, progress);
    }),
    longAction('migrate', 'Move the running VM to another host', 'The destination is a `vireo run --incoming tcp:HOST:PORT`.', MIGRATE_REQUEST, (body) => {
      const target = parseMigrationTarget((body as { target: string }).target);
      if (typeof target === 'string') throw new VmApiError('invalid-body', `body.target: ${target}`, { field: 'target' });
      return (progress) => controller.migrate(target, progress);
    }),
  ];
}
