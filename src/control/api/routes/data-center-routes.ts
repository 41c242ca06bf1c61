// /data-centers: the top of the model; hosts, LUNs, networks and VMs live in one.

import type { z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { DataCenter } from '../../store/data-centers.js';
import type { MasterEnv } from '../master-env.js';
import { scopeRoutes, scopeSchema, scopeView } from './scope-routes.js';

export const DATA_CENTER = scopeSchema('DataCenter');

export function dataCenterView(row: DataCenter): z.infer<typeof DATA_CENTER> {
  return scopeView(row);
}

export function dataCenterRoutes(): OpenAPIHono<MasterEnv> {
  return scopeRoutes({
    kind: 'data-center', path: '/data-centers', schemaName: 'DataCenter', noun: 'data center',
    rows: (repos) => repos.dataCenters,
    scopeOf: (id) => ({ dataCenterId: id }),
    reachedIds: (reach) => reach.dataCenterIds,
    deleteConflict: 'Hosts, LUNs, networks or VMs are still in it',
  });
}
