// Routes of the /vms resource: list and define VMs, read one, change its limits, delete it, and
// its statistics and console (the console's WebSocket is served by console-socket.ts).

import type { ApiRoute } from '../../vm/api/api-route.js';
import type { HostAgent } from '../host-agent.js';
import { HostError } from '../host-error.js';
import { DEFINE_REQUEST_SCHEMA } from '../vm-definition.js';
import { LIMITS_REQUEST_SCHEMA, updateLimits, type LimitsRequest } from '../vm-limits.js';
import { vmInfo, vmStats } from '../vm-report.js';
import { LIMITS_ANSWER, VM_INFO, VM_LIST, VM_STATS } from './host-api-schemas.js';
import { hostErrors } from './host-errors.js';

export const NAME_PARAMETER = { name: 'name', in: 'path', required: true, description: 'The VM\'s name', schema: { type: 'string' } } as const;

export const CONSOLE_PATH = '/vms/{name}/console';

export function vmResourceRoutes(agent: HostAgent): ApiRoute[] {
  return [
    {
      method: 'GET', path: '/vms', operationId: 'listVms', summary: 'Every VM of this host, with its state',
      responses: { 200: { description: 'The VMs, by name', schema: VM_LIST }, ...hostErrors() },
      handle: async () => ({ status: 200, body: { vms: [...agent.instances.values()].sort((a, b) => a.name.localeCompare(b.name)).map(vmInfo) } }),
    },
    {
      method: 'POST', path: '/vms', operationId: 'defineVm', summary: 'Define a VM (new disks of a size become thin virtual LUNs)',
      body: { schema: DEFINE_REQUEST_SCHEMA, required: true },
      responses: { 201: { description: 'Defined (Location: the VM)', schema: VM_INFO }, ...hostErrors(409, 500) },
      async handle({ body }) {
        const vm = await agent.define(body);
        return { status: 201, body: vmInfo(vm), headers: { Location: `/vms/${vm.name}` } };
      },
    },
    {
      method: 'GET', path: '/vms/{name}', operationId: 'getVm', summary: 'One VM: definition, state, restarts, last exit',
      parameters: [NAME_PARAMETER],
      responses: { 200: { description: 'The VM', schema: VM_INFO }, ...hostErrors(404) },
      handle: async ({ params }) => ({ status: 200, body: vmInfo(agent.get(params['name']!)) }),
    },
    {
      method: 'DELETE', path: '/vms/{name}', operationId: 'deleteVm', summary: 'Delete a VM that is not running',
      description: 'With `disks=true` the virtual LUNs the agent made for it go too; images given by path are never deleted.',
      parameters: [NAME_PARAMETER, { name: 'disks', in: 'query', required: false, description: 'Also delete its virtual LUNs', schema: { type: 'boolean' } }],
      responses: { 200: { description: 'Deleted', schema: { type: 'object', required: ['deleted'], properties: { deleted: { type: 'string' } } } }, ...hostErrors(404, 409, 500) },
      async handle({ params, query }) {
        await agent.remove(params['name']!, { disks: query['disks'] === true });
        return { status: 200, body: { deleted: params['name']! } };
      },
    },
    {
      method: 'PUT', path: '/vms/{name}/limits', operationId: 'setVmLimits', summary: 'Change the CPU weight and cap, and disks\' I/O limits',
      description: 'Stored in the definition; pushed to a running VM (the CPU slices are decided again at once; disk limits, or with a host disk budget each disk\'s share of it, through the VM\'s API). The answer says what was applied.',
      parameters: [NAME_PARAMETER],
      body: { schema: LIMITS_REQUEST_SCHEMA, required: true },
      responses: { 200: { description: 'The VM and what was applied', schema: LIMITS_ANSWER }, ...hostErrors(404, 500) },
      async handle({ params, body }) {
        const applied = await updateLimits(agent, params['name']!, body as LimitsRequest);
        return { status: 200, body: { vm: vmInfo(agent.get(params['name']!)), applied } };
      },
    },
    {
      method: 'GET', path: '/vms/{name}/stats', operationId: 'getVmStats', summary: 'Statistics: the VM process\'s own, its memory, CPU slice, disk limits in force, restarts and exit reason',
      parameters: [NAME_PARAMETER],
      responses: { 200: { description: 'The statistics', schema: VM_STATS }, ...hostErrors(404) },
      handle: async ({ params }) => ({ status: 200, body: await vmStats(agent, agent.get(params['name']!)) }),
    },
    {
      method: 'GET', path: CONSOLE_PATH, operationId: 'attachConsole', summary: 'The serial console as a WebSocket (binary frames both ways)',
      description: 'Upgrade to a WebSocket: the recent output (up to 64 KiB) comes first, then everything the guest writes; what the client sends is typed into the console.',
      parameters: [NAME_PARAMETER],
      responses: { 101: { description: 'Switching to the WebSocket protocol' }, ...hostErrors(404, 409, 426) },
      async handle({ params }) {
        agent.get(params['name']!);
        throw new HostError('upgrade-required', `${CONSOLE_PATH.replace('{name}', params['name']!)} is a WebSocket; connect with a WebSocket client (vireo host vm console)`);
      },
    },
  ];
}
