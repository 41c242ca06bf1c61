// Routes of the /luns resource: the agent's physical LUNs (list, add or adopt, forget) and the
// volumes carved from them (list, create, delete), which VM definitions attach as disks.

import type { ApiRoute } from '../../vm/api/api-route.js';
import type { AddLunRequest } from '../agent-storage.js';
import type { HostAgent } from '../host-agent.js';
import { hostErrors } from './host-errors.js';
import { ADD_LUN_REQUEST, CREATE_VOLUME_REQUEST, PHYSICAL_LUN, PHYSICAL_LUN_LIST, VOLUME, VOLUME_LIST } from './lun-api-schemas.js';

const LUN_PARAMETER = { name: 'lun', in: 'path', required: true, description: 'The physical LUN\'s name (`default`: the agent\'s own)', schema: { type: 'string' } } as const;
const VOLUME_PARAMETER = { name: 'volume', in: 'path', required: true, description: 'The volume\'s name', schema: { type: 'string' } } as const;

export function lunRoutes(agent: HostAgent): ApiRoute[] {
  const { storage } = agent;
  return [
    {
      method: 'GET', path: '/luns', operationId: 'listLuns', summary: 'The physical LUNs of this host, by name, with their usage',
      responses: { 200: { description: 'The physical LUNs', schema: PHYSICAL_LUN_LIST }, ...hostErrors() },
      handle: async () => ({ status: 200, body: { luns: storage.listLuns() } }),
    },
    {
      method: 'POST', path: '/luns', operationId: 'addLun', summary: 'Add a physical LUN: adopt the one in `path`, or make one there',
      description: 'A directory holding a physical LUN\'s manifest is adopted with its volumes, its capacity untouched; an empty or missing one becomes a new LUN. The agent opens it again when it restarts.',
      body: { schema: ADD_LUN_REQUEST, required: true },
      responses: { 201: { description: 'Added (Location: the LUN)', schema: PHYSICAL_LUN }, ...hostErrors(409, 500) },
      async handle({ body }) {
        const lun = await storage.addLun(body as AddLunRequest);
        return { status: 201, body: lun, headers: { Location: `/luns/${lun.name}` } };
      },
    },
    {
      method: 'GET', path: '/luns/{lun}', operationId: 'getLun', summary: 'One physical LUN and its usage',
      parameters: [LUN_PARAMETER],
      responses: { 200: { description: 'The physical LUN', schema: PHYSICAL_LUN }, ...hostErrors(404) },
      handle: async ({ params }) => ({ status: 200, body: storage.getLun(params['lun']!) }),
    },
    {
      method: 'DELETE', path: '/luns/{lun}', operationId: 'removeLun', summary: 'Forget a physical LUN that has no volumes (its directory stays, to be added again)',
      parameters: [LUN_PARAMETER],
      responses: { 204: { description: 'Forgotten' }, ...hostErrors(404, 409, 500) },
      async handle({ params }) {
        await storage.removeLun(params['lun']!);
        return { status: 204, body: undefined };
      },
    },
    {
      method: 'GET', path: '/luns/{lun}/volumes', operationId: 'listVolumes', summary: 'The volumes of a physical LUN, by name, with the VM each is attached to',
      parameters: [LUN_PARAMETER],
      responses: { 200: { description: 'The volumes', schema: VOLUME_LIST }, ...hostErrors(404) },
      handle: async ({ params }) => ({ status: 200, body: { volumes: storage.listVolumes(params['lun']!) } }),
    },
    {
      method: 'POST', path: '/luns/{lun}/volumes', operationId: 'createVolume', summary: 'Create an empty thin volume (a qcow2 virtual LUN)',
      parameters: [LUN_PARAMETER],
      body: { schema: CREATE_VOLUME_REQUEST, required: true },
      responses: { 201: { description: 'Created (Location: the volume)', schema: VOLUME }, ...hostErrors(404, 409, 500) },
      async handle({ params, body }) {
        const volume = await storage.createVolume(params['lun']!, body as { name: string; sizeMiB: number });
        return { status: 201, body: volume, headers: { Location: `/luns/${volume.lun}/volumes/${volume.name}` } };
      },
    },
    {
      method: 'GET', path: '/luns/{lun}/volumes/{volume}', operationId: 'getVolume', summary: 'One volume',
      parameters: [LUN_PARAMETER, VOLUME_PARAMETER],
      responses: { 200: { description: 'The volume', schema: VOLUME }, ...hostErrors(404) },
      handle: async ({ params }) => ({ status: 200, body: storage.getVolume(params['lun']!, params['volume']!) }),
    },
    {
      method: 'DELETE', path: '/luns/{lun}/volumes/{volume}', operationId: 'deleteVolume', summary: 'Delete a volume and its image; not while a VM definition uses it',
      parameters: [LUN_PARAMETER, VOLUME_PARAMETER],
      responses: { 204: { description: 'Deleted' }, ...hostErrors(404, 409, 500) },
      async handle({ params }) {
        await storage.deleteVolume(params['lun']!, params['volume']!);
        return { status: 204, body: undefined };
      },
    },
  ];
}
