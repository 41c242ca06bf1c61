// The master's HTTP application: security headers, a body limit, authentication in front of
// every /api/v1 route (each route then checks its own permission), RFC 9457 problems for every
// error, and the OpenAPI 3.1 document generated from the routes themselves.

import { OpenAPIHono } from '@hono/zod-openapi';
import type { Hook } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { MasterServices } from '../master-services.js';
import { authenticate } from './authenticate.js';
import { MasterApiError, problemFor } from './master-api-error.js';
import type { MasterEnv } from './master-env.js';
import { declaredAccess } from './secured-route.js';
import { auditRoutes } from './routes/audit-routes.js';
import { dataCenterRoutes } from './routes/data-center-routes.js';
import { eventRoutes } from './routes/event-routes.js';
import { hostRoutes } from './routes/host-routes.js';
import { networkRoutes } from './routes/network-routes.js';
import { operationRoutes } from './routes/operation-routes.js';
import { physicalLunRoutes } from './routes/physical-lun-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { roleBindingRoutes } from './routes/role-binding-routes.js';
import { tenantRoutes } from './routes/tenant-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { totpRoutes } from './routes/totp-routes.js';
import { userRoutes } from './routes/user-routes.js';
import { virtualLunRoutes } from './routes/virtual-lun-routes.js';
import { vmActionRoutes } from './routes/vm-action-routes.js';
import { vmRoutes } from './routes/vm-routes.js';
import { serveWebConsole } from './web-console.js';

export const API_BASE = '/api/v1';
export const OPENAPI_PATH = '/api/openapi.json';
const MAX_BODY_BYTES = 1 << 20;

/** Request validation failures become one 400 problem naming the first field that is wrong. */
const invalidRequest: Hook<unknown, MasterEnv, string, unknown> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = issue === undefined ? result.target : [result.target, ...issue.path.map(String)].join('.');
  throw new MasterApiError('invalid-request', `${where}: ${issue?.message ?? 'is not valid'}`, { field: where });
};

export function createMasterApp(master: MasterServices): OpenAPIHono<MasterEnv> {
  const app = new OpenAPIHono<MasterEnv>({ defaultHook: invalidRequest });
  app.use('*', async (c, next) => {
    c.set('master', master);
    c.set('caller', undefined);
    await next();
  });
  // Server-Timing (W3C): how long the master took, apart from the network, for clients and benchmarks.
  app.use(`${API_BASE}/*`, async (c, next) => {
    const started = performance.now();
    await next();
    c.header('Server-Timing', `app;dur=${(performance.now() - started).toFixed(2)}`);
  });
  app.use('*', secureHeaders({ strictTransportSecurity: 'max-age=31536000', crossOriginResourcePolicy: 'same-origin' }));
  app.use(`${API_BASE}/*`, bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw new MasterApiError('payload-too-large', `request bodies are limited to ${MAX_BODY_BYTES} bytes`); } }));
  app.use(`${API_BASE}/*`, authenticate());

  const resources = [
    sessionRoutes(), totpRoutes(), dataCenterRoutes(), tenantRoutes(), userRoutes(), roleBindingRoutes(), tokenRoutes(), auditRoutes(),
    hostRoutes(), physicalLunRoutes(), virtualLunRoutes(), networkRoutes(), vmRoutes(), vmActionRoutes(), operationRoutes(), eventRoutes(),
  ];
  for (const routes of resources) app.route(API_BASE, routes);
  checkEveryRouteDeclaresAccess(app);

  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: { title: 'Vireo master API', version: '1', description: 'Data centers, hosts, VMs, LUNs and users of a Vireo installation. Errors are RFC 9457 problem details.' },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerToken', { type: 'http', scheme: 'bearer', description: 'An API token (vireo_...)' });
  app.openAPIRegistry.registerComponent('securitySchemes', 'sessionCookie', { type: 'apiKey', in: 'cookie', name: '__Host-vireo-session' });

  serveWebConsole(app);
  app.notFound((c) => {
    throw new MasterApiError('not-found', `no route ${c.req.method} ${c.req.path}; ${OPENAPI_PATH} lists the routes`);
  });
  app.onError((error, c) => {
    const problem = problemFor(error, c.req.path);
    if (problem.status >= 500) console.error(`vireo master: ${c.req.method} ${c.req.path}: ${(error as Error).stack ?? String(error)}`);
    const retryAfter = (problem as { retryAfter?: unknown }).retryAfter;
    if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
    if (problem.status === 401) c.header('WWW-Authenticate', 'Bearer realm="vireo"');
    return c.body(JSON.stringify(problem), problem.status as 400, { 'Content-Type': 'application/problem+json' });
  });
  return app;
}

/** Deny by default: a route that declares neither a permission nor that it is public is a bug, caught at start. */
function checkEveryRouteDeclaresAccess(app: OpenAPIHono<MasterEnv>): void {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== 'route') continue;
    if (declaredAccess(definition.route) === undefined) {
      throw new Error(`route ${definition.route.method.toUpperCase()} ${definition.route.path} declares no permission; use securedRoute or publicRoute`);
    }
  }
}
