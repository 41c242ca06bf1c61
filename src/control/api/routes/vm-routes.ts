// /vms: virtual machines, placed on a host of their data center and driven through its agent.
// Starting and stopping answer 202 with an operation. Every action's target is the VM's tenant
// and data center, so a tenant's users see and drive only their tenant's VMs.

import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { createVm } from '../../commands/create-vm.js';
import { deleteVm } from '../../commands/delete-vm.js';
import { powerVm, type PowerAction } from '../../commands/vm-power.js';
import { vmSpecOf } from '../../hosts/master-vm-spec.js';
import { authorizedScopes, type Action } from '../../security/permissions.js';
import { repositories } from '../../store/repositories.js';
import type { VirtualMachine, VirtualMachineFilter } from '../../store/virtual-machines.js';
import { MAX_CPUS, MAX_RAM_MIB, VM_NAME_PATTERN } from '../../../host/vm-definition.js';
import { ifMatchVersion, setEtag } from '../etag.js';
import type { MasterEnv } from '../master-env.js';
import { linkNextPage, PAGE_QUERY, pageOf } from '../pagination.js';
import { securedRoute } from '../secured-route.js';
import { OPERATION, operationView } from './operation-routes.js';
import { intoTenant, onlyTenantOf, reaches } from './tenant-scoped.js';
import { body, COMMON_ERRORS, ID_PARAM, IF_MATCH, json, pathId, problem } from './resource-route.js';

const STATE = z.enum(['defined', 'starting', 'running', 'paused', 'stopping', 'stopped', 'crashed', 'unknown', 'deleting']);
const PATH = z.string().min(1).max(4096).regex(/^\//u).openapi({ description: 'An absolute path on the host' });
const BOOT = z.object({ kernel: PATH, firmware: PATH.optional(), initrd: PATH.optional(), bootargs: z.string().max(4096).optional() }).strict()
  .openapi('VmBoot', { description: 'Files on the host: a Linux Image (with firmware, e.g. OpenSBI fw_jump.bin) or a bare-metal program alone' });
const DISK = z.union([
  z.object({ sizeGiB: z.number().positive().max(16384).openapi({ description: 'A new thin disk of this size (fractions allowed), deleted with the VM' }) }).strict(),
  z.object({ virtualLunId: z.string().uuid().openapi({ description: 'A virtual LUN of the VM\'s tenant, not attached elsewhere; the VM goes on its host' }) }).strict(),
]).openapi('VmDisk');

export const VM = z.object({
  id: z.string(), tenantId: z.string(), dataCenterId: z.string(), hostId: z.string().nullable(), name: z.string(),
  cpus: z.number().int(), memoryMiB: z.number().int(), state: STATE, stateReason: z.string(),
  disks: z.array(DISK), networkId: z.string().nullable(), boot: BOOT, jit: z.enum(['on', 'off']),
  createdAt: z.string(), updatedAt: z.string(), version: z.number().int(),
}).openapi('VirtualMachine');

const NEW_VM = z.object({
  tenantId: z.string().uuid(), dataCenterId: z.string().uuid(),
  name: z.string().regex(new RegExp(VM_NAME_PATTERN, 'u')).openapi({ description: 'Unique in the tenant: lower-case letters, digits, dashes' }),
  cpus: z.number().int().min(1).max(MAX_CPUS).default(1), memoryMiB: z.number().int().min(1).max(MAX_RAM_MIB),
  hostId: z.string().uuid().optional().openapi({ description: 'Only this host (it must have room); otherwise the master chooses' }),
  disks: z.array(DISK).max(8).optional(),
  networkId: z.string().uuid().optional().openapi({ description: 'A network of the VM\'s tenant in its data center, for its one NIC; absent: none' }),
  boot: BOOT, jit: z.enum(['on', 'off']).optional(),
}).strict().openapi('NewVirtualMachine');

const STOP = z.object({ force: z.boolean().optional().openapi({ description: 'Power off at once instead of asking the guest' }) }).strict().openapi('StopRequest');

const VM_FILTER = PAGE_QUERY.extend({ tenantId: z.string().uuid().optional(), hostId: z.string().uuid().optional(), dataCenterId: z.string().uuid().optional(), state: STATE.optional() });

export function vmView(row: VirtualMachine): z.infer<typeof VM> {
  const spec = vmSpecOf(row);
  return {
    id: row.id, tenantId: row.tenant_id, dataCenterId: row.data_center_id, hostId: row.host_id, name: row.name, cpus: row.cpus, memoryMiB: row.memory_mib,
    state: row.state, stateReason: row.state_reason, disks: spec.disks, networkId: spec.networkId ?? null, boot: spec.boot, jit: spec.jit,
    createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
  };
}

/** A VM route's target: the VM's data center and tenant. */
export const ofVm = async (c: Context<MasterEnv>) => {
  const row = await repositories(c.get('master').store.db).virtualMachines.get(pathId(c));
  return { dataCenterId: row.data_center_id, tenantId: row.tenant_id };
};

export function vmRoutes(): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>();

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/vms', tags: ['vms'], summary: 'The VMs the caller may see, by tenant, host, data center and state',
    request: { query: VM_FILTER },
    responses: { 200: json('A page of VMs', pageOf(VM, 'VirtualMachinePage')), ...COMMON_ERRORS },
  }), { action: 'vm.read', filtered: true }), async (c) => {
    const { limit, cursor, tenantId, hostId, dataCenterId, state } = c.req.valid('query');
    const reach = authorizedScopes(c.get('caller')!, 'vm.read');
    const filter: VirtualMachineFilter = {
      ...(tenantId === undefined ? {} : { tenant_id: tenantId }), ...(hostId === undefined ? {} : { host_id: hostId }),
      ...(dataCenterId === undefined ? {} : { data_center_id: dataCenterId }), ...(state === undefined ? {} : { state }),
    };
    filter.tenant_id ??= onlyTenantOf(reach);
    const page = await repositories(c.get('master').store.db).virtualMachines.list(filter, { limit, cursor: cursor ?? null });
    const items = page.items.filter((row) => reaches(reach, { dataCenterId: row.data_center_id, tenantId: row.tenant_id })).map(vmView);
    linkNextPage(c, page.nextCursor);
    return c.json({ items, nextCursor: page.nextCursor }, 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'post', path: '/vms', tags: ['vms'], summary: 'Create a VM: placed on a host with room and defined on its agent',
    request: body(NEW_VM),
    responses: { 201: json('Created', VM), 409: problem('The name is taken, or no host has room (each host\'s reason in `rejected`)'), 503: problem('The host chosen did not answer'), ...COMMON_ERRORS },
  }), { action: 'vm.create', target: intoTenant }), async (c) => {
    const row = await createVm(c.get('master'), c.get('caller')!, c.req.valid('json'));
    setEtag(c, row.id, row.version);
    c.header('Location', `/api/v1/vms/${row.id}`);
    return c.json(vmView(row), 201);
  });

  app.openapi(securedRoute(createRoute({
    method: 'get', path: '/vms/{id}', tags: ['vms'], summary: 'One VM, with its host and last known state',
    request: { params: ID_PARAM },
    responses: { 200: json('The VM', VM), ...COMMON_ERRORS },
  }), { action: 'vm.read', target: ofVm }), async (c) => {
    const row = await repositories(c.get('master').store.db).virtualMachines.get(c.req.valid('param').id);
    setEtag(c, row.id, row.version);
    return c.json(vmView(row), 200);
  });

  app.openapi(securedRoute(createRoute({
    method: 'delete', path: '/vms/{id}', tags: ['vms'], summary: 'Delete a VM that is not running, on its host too',
    request: { params: ID_PARAM, headers: IF_MATCH },
    responses: { 204: { description: 'Deleted' }, 409: problem('It runs, or its host is down'), 412: problem('Changed since read'), ...COMMON_ERRORS },
  }), { action: 'vm.delete', target: ofVm }), async (c) => {
    const { id } = c.req.valid('param');
    await deleteVm(c.get('master'), c.get('caller')!, id, ifMatchVersion(c, id, false));
    return c.body(null, 204);
  });

  for (const action of ['start', 'stop'] as const satisfies readonly PowerAction[]) {
    app.openapi(securedRoute(createRoute({
      method: 'post', path: `/vms/{id}/${action}`, tags: ['vms'], summary: `${action === 'start' ? 'Start' : 'Stop'} the VM: 202 with the operation to follow`,
      request: { params: ID_PARAM, body: { required: false, content: { 'application/json': { schema: action === 'stop' ? STOP : z.object({}).strict() } } } },
      responses: { 202: json('Under way', OPERATION), 409: problem(`The VM cannot ${action} now`), ...COMMON_ERRORS },
    }), { action: `vm.${action}` as Action, target: ofVm }), async (c) => {
      const { id } = c.req.valid('param');
      const options = (c.req.valid('json') ?? {}) as { force?: boolean };
      const op = await powerVm(c.get('master'), c.get('caller')!, id, action, options.force === undefined ? {} : { force: options.force });
      c.header('Location', `/api/v1/operations/${op.id}`);
      return c.json(operationView(op), 202);
    });
  }

  return app;
}
