// Routes that act on a VM: start, stop, pause, resume; snapshot and migrate as operations; and
// the destination's side of a migration, POST /vms/incoming.

import type { ApiRoute } from '../../vm/api/api-route.js';
import { EMPTY_BODY, OPERATION } from '../../vm/api/api-schemas.js';
import { DEFAULT_STOP_TIMEOUT_MS, type HostAgent } from '../host-agent.js';
import { receiveIncoming, startMigration, startSnapshot, type IncomingRequest } from '../vm-operations.js';
import { vmInfo } from '../vm-report.js';
import type { VmInstance } from '../vm-instance.js';
import { INCOMING_ANSWER, INCOMING_REQUEST, MIGRATE_REQUEST, SNAPSHOT_REQUEST, STOP_REQUEST, VM_INFO } from './host-api-schemas.js';
import { hostErrors } from './host-errors.js';
import { NAME_PARAMETER } from './vm-resource-routes.js';
import type { JsonSchema } from '../../vm/api/json-schema.js';
import type { Operation } from '../../vm/api/operation-registry.js';

export function vmActionRoutes(agent: HostAgent): ApiRoute[] {
  const action = (verb: string, summary: string, schema: JsonSchema, act: (name: string, body: Record<string, unknown>) => Promise<VmInstance>, description?: string): ApiRoute => ({
    method: 'POST', path: `/vms/{name}/${verb}`, operationId: `${verb}Vm`, summary, ...(description ? { description } : {}),
    parameters: [NAME_PARAMETER],
    body: { schema, required: false },
    responses: { 200: { description: 'Done; the VM now', schema: VM_INFO }, ...hostErrors(404, 409, 500, 502) },
    handle: async ({ params, body }) => ({ status: 200, body: vmInfo(await act(params['name']!, (body ?? {}) as Record<string, unknown>)) }),
  });
  const operation = (verb: 'snapshot' | 'migrate', summary: string, schema: JsonSchema, start: (vm: VmInstance, body: Record<string, unknown>) => Operation): ApiRoute => ({
    method: 'POST', path: `/vms/{name}/${verb}`, operationId: `${verb}Vm`, summary,
    description: 'Starts an operation; follow it with GET /operations/{id}.',
    parameters: [NAME_PARAMETER],
    body: { schema, required: verb === 'migrate' },
    responses: { 202: { description: 'Started (Location: the operation)', schema: OPERATION }, ...hostErrors(404, 409) },
    async handle({ params, body }) {
      const op = start(agent.get(params['name']!), (body ?? {}) as Record<string, unknown>);
      return { status: 202, body: op, headers: { Location: `/operations/${op.id}` } };
    },
  });
  return [
    action('start', 'Start the VM in its own process; answers once its API serves', EMPTY_BODY, (name) => agent.start(name)),
    action('stop', 'Stop the VM: gracefully (the VM\'s API stop, then signals after the timeout) or forced (SIGKILL)', STOP_REQUEST, (name, body) => agent.stop(name, {
      force: body['force'] === true,
      timeoutMs: typeof body['timeoutSeconds'] === 'number' ? body['timeoutSeconds'] * 1000 : DEFAULT_STOP_TIMEOUT_MS,
    }), 'A RISC-V virt guest has no ACPI power button: a graceful stop ends the VM at an instruction boundary with its disks flushed and closed, without the guest\'s own shutdown.'),
    action('pause', 'Pause the VM at an instruction boundary', EMPTY_BODY, async (name) => {
      const vm = agent.get(name);
      await vm.setRunning('pause');
      return vm;
    }),
    action('resume', 'Continue a paused VM', EMPTY_BODY, async (name) => {
      const vm = agent.get(name);
      // Resuming after a snapshot moves the disks onto overlays: the definition follows.
      await agent.followDisks(vm, await vm.setRunning('resume'));
      return vm;
    }),
    operation('snapshot', 'Save a whole-VM snapshot (the VM\'s save)', SNAPSHOT_REQUEST, (vm, body) => startSnapshot(agent, vm, body as { path?: string; resume?: boolean })),
    operation('migrate', 'Move the running VM to another agent, which POST /vms/incoming prepared', MIGRATE_REQUEST, (vm, body) => startMigration(vm, body['target'] as string)),
    {
      method: 'POST', path: '/vms/incoming', operationId: 'receiveVm', summary: 'Wait for a VM migrating here; answers the target for the source',
      description: 'Starts `vireo run --incoming` with its disks copied into this agent\'s directory; once the VM arrives it is defined here from the description it came with.',
      body: { schema: INCOMING_REQUEST, required: true },
      responses: { 201: { description: 'Listening', schema: INCOMING_ANSWER }, ...hostErrors(409, 500) },
      handle: async ({ body }) => ({ status: 201, body: await receiveIncoming(agent, body as IncomingRequest) }),
    },
  ];
}
