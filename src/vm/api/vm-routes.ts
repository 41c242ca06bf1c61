// Routes of the /vm resource: read the VM's status, pause, resume, stop it, and start the long
// actions (save, migrate) as operations.

import type { ApiRoute, RouteResult } from './api-route.js';
import { EMPTY_BODY, errorResponses, MIGRATE_REQUEST, OPERATION, SAVE_REQUEST, VM_STATUS } from './api-schemas.js';
import { parseMigrationTarget } from './migration-target.js';
import type { Operation, OperationRegistry } from './operation-registry.js';
import { VmApiError } from './vm-api-error.js';
import type { VmController } from './vm-controller.js';

export function vmRoutes(controller: VmController, operations: OperationRegistry): ApiRoute[] {
  const status = (): RouteResult => ({ status: 200, body: controller.status() });
  const started = (op: Operation): RouteResult => ({ status: 202, body: op, headers: { Location: `/operations/${op.id}` } });
  const notStopped = (verb: string): void => {
    if (controller.status().state === 'stopped') throw new VmApiError('invalid-state', `cannot ${verb}: the VM is stopped`);
  };
  const stateChange = (verb: 'pause' | 'resume' | 'stop', summary: string): ApiRoute => ({
    method: 'POST',
    path: `/vm/${verb}`,
    operationId: `${verb}Vm`,
    summary,
    body: { schema: EMPTY_BODY, required: false },
    responses: { 200: { description: 'Done; the VM\'s status now', schema: VM_STATUS }, ...errorResponses(400, 409, 413, 415, 500) },
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
    {
      method: 'POST',
      path: '/vm/save',
      operationId: 'saveVm',
      summary: 'Save a whole-VM snapshot to a file',
      description: 'Starts a save operation; follow it with GET /operations/{id}. The VM stays paused afterwards unless `resume` is true.',
      body: { schema: SAVE_REQUEST, required: true },
      responses: { 202: { description: 'The save has started (Location: the operation)', schema: OPERATION }, ...errorResponses(400, 409, 413, 415, 500) },
      async handle({ body }) {
        const { path, resume } = body as { path: string; resume?: boolean };
        notStopped('save');
        return started(operations.start('save', (progress) => controller.save(path, { resume: resume === true }, progress)));
      },
    },
    {
      method: 'POST',
      path: '/vm/migrate',
      operationId: 'migrateVm',
      summary: 'Move the running VM to another host',
      description: 'Starts a migrate operation to a `vireo run --incoming tcp:HOST:PORT`; follow it with GET /operations/{id}.',
      body: { schema: MIGRATE_REQUEST, required: true },
      responses: { 202: { description: 'The migration has started (Location: the operation)', schema: OPERATION }, ...errorResponses(400, 409, 413, 415, 500) },
      async handle({ body }) {
        const target = parseMigrationTarget((body as { target: string }).target);
        if (typeof target === 'string') throw new VmApiError('invalid-body', `body.target: ${target}`, { field: 'target' });
        notStopped('migrate');
        return started(operations.start('migrate', (progress) => controller.migrate(target, progress)));
      },
    },
  ];
}
