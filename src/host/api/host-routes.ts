// Every route of the agent's API in one table: host info, the /luns and /vms routes, operations, and the
// OpenAPI document generated from them.

import type { ApiRoute } from '../../vm/api/api-route.js';
import { openApiRoute } from '../../vm/api/openapi-document.js';
import { operationRoutes } from '../../vm/api/operation-routes.js';
import { RouteTable } from '../../vm/api/route-table.js';
import type { HostAgent } from '../host-agent.js';
import { HOST_INFO, NETWORK_INFO } from './host-api-schemas.js';
import { hostErrors } from './host-errors.js';
import { lunRoutes } from './lun-routes.js';
import { vmActionRoutes } from './vm-action-routes.js';
import { vmResourceRoutes } from './vm-resource-routes.js';

export const HOST_API_INFO = {
  title: 'Vireo host agent API',
  description: 'Runs the VMs of one host, each in its own process: served by `vireo host serve` as HTTP/1.1 with JSON on a Unix socket ' +
    '(DIR/agent.sock, mode 0600) and, with --listen tcp:HOST:PORT, on TCP where every request needs `Authorization: Bearer TOKEN`. ' +
    'Every error is {"error": {"kind", "message"}}.',
};

export function hostApiRoutes(agent: HostAgent): RouteTable {
  const host: ApiRoute = {
    method: 'GET', path: '/host', operationId: 'getHost', summary: 'This host: cores, memory and its budget, storage, VMs by state, CPU capacity, disk budget, networks',
    responses: { 200: { description: 'The host', schema: HOST_INFO }, ...hostErrors() },
    handle: async () => ({ status: 200, body: await agent.hostInfo() }),
  };
  const networks: ApiRoute = {
    method: 'GET', path: '/networks', operationId: 'listNetworks', summary: 'The virtual networks this agent serves: a switch each, shared only by the VMs that name it',
    responses: { 200: { description: 'The networks', schema: { type: 'object', required: ['networks'], properties: { networks: { type: 'array', items: NETWORK_INFO } } } }, ...hostErrors() },
    handle: async () => ({ status: 200, body: { networks: await agent.networks.list() } }),
  };
  const find = (id: string) => [...agent.instances.values()].find((vm) => vm.operations.get(id) !== undefined)?.operations;
  const routes = [host, networks, ...lunRoutes(agent), ...vmResourceRoutes(agent), ...vmActionRoutes(agent), ...operationRoutes(find)];
  return new RouteTable([...routes, openApiRoute(routes, HOST_API_INFO)]);
}
