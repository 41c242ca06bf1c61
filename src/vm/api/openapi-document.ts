// The OpenAPI 3.1 document of the VM API, generated from the route declarations the server
// itself uses, and the route that serves it.

import type { ApiRoute } from './api-route.js';
import { errorResponses, OPENAPI_DOCUMENT } from './api-schemas.js';

export const OPENAPI_PATH = '/openapi.json';

/** The document's title and description; the VM API's unless another API (the host agent's) passes its own. */
export interface OpenApiInfo {
  title: string;
  description: string;
}

const VM_API_INFO: OpenApiInfo = {
  title: 'Vireo VM API',
  description: 'Controls one VM: served by `vireo run --api PATH` as HTTP/1.1 with JSON over the Unix socket PATH. ' +
    'Every error is {"error": {"kind", "message"}}; unknown routes answer 404, wrong methods 405 with Allow.',
};

export function openApiDocument(routes: readonly ApiRoute[], info: OpenApiInfo = VM_API_INFO): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = { operationId: route.operationId, summary: route.summary };
    if (route.description !== undefined) operation['description'] = route.description;
    if (route.parameters !== undefined) operation['parameters'] = route.parameters.map((p) => ({ ...p }));
    if (route.body !== undefined) {
      operation['requestBody'] = { required: route.body.required, content: { 'application/json': { schema: route.body.schema } } };
    }
    operation['responses'] = Object.fromEntries(Object.entries(route.responses).map(([status, r]) => [
      status,
      r.schema === undefined ? { description: r.description } : { description: r.description, content: { 'application/json': { schema: r.schema } } },
    ]));
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: '1', description: info.description },
    paths,
  };
}

/** GET /openapi.json, describing `routes` and itself. */
export function openApiRoute(routes: readonly ApiRoute[], info?: OpenApiInfo): ApiRoute {
  const self: ApiRoute = {
    method: 'GET',
    path: OPENAPI_PATH,
    operationId: 'getOpenApi',
    summary: 'This API\'s OpenAPI 3.1 document',
    responses: { 200: { description: 'The document', schema: OPENAPI_DOCUMENT }, ...errorResponses(400, 413, 415) },
    handle: async () => ({ status: 200, body: document }),
  };
  const document = openApiDocument([...routes, self], info);
  return self;
}
