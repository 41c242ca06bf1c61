// The VM's control API: HTTP/1.1 with JSON over a Unix socket (like Firecracker's API socket),
// routes declared in vm-routes.ts and operation-routes.ts. No request can crash the process:
// every error, the controller's included, becomes a JSON error response.

import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RouteResult } from './api-route.js';
import { claimSocketPath } from './claim-socket-path.js';
import { validate } from './json-schema.js';
import { openApiRoute } from './openapi-document.js';
import { OperationRegistry } from './operation-registry.js';
import { operationRoutes } from './operation-routes.js';
import { parseQuery } from './parse-query.js';
import { checkBodyHeaders, hasBody, readJsonBody } from './request-body.js';
import { RouteTable } from './route-table.js';
import { errorResponse, VmApiError } from './vm-api-error.js';
import type { VmController } from './vm-controller.js';
import { vmRoutes } from './vm-routes.js';
import { resourceRoutes } from './resource-routes.js';
import { hasResources } from './vm-resources.js';

export interface VmApiServer {
  readonly path: string;
  /** Stops serving: ends waits, closes connections, removes the socket. */
  close(): Promise<void>;
}

/** How long close() lets requests in progress finish before cutting their connections. */
const CLOSE_GRACE_MS = 1000;

/** The routes the server answers, for the server and for tests of the OpenAPI document. */
export function apiRoutes(controller: VmController, operations: OperationRegistry): RouteTable {
  const routes = [...vmRoutes(controller, operations), ...(hasResources(controller) ? resourceRoutes(controller) : []), ...operationRoutes(operations)];
  return new RouteTable([...routes, openApiRoute(routes)]);
}

/** Serves `controller` at the Unix socket `path` (mode 0600); a stale socket there is replaced. */
export async function serveVmApi(path: string, controller: VmController): Promise<VmApiServer> {
  await claimSocketPath(path);
  const operations = new OperationRegistry();
  const table = apiRoutes(controller, operations);
  let closing = false;
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    req.on('error', () => {});
    res.on('error', () => {});
    handleApiRequest(table, req, res, () => closing).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new VmApiError('listen-failed', `cannot serve the VM API at ${path}: ${e.message}`, { path }, { cause: e })));
    // Only this user may drive the VM: the socket is created 0600, not left to the umask.
    const umask = process.umask(0o177);
    try {
      server.listen(path, resolve);
    } finally {
      process.umask(umask);
    }
  });
  await chmod(path, 0o600);
  return {
    path,
    close: () => new Promise<void>((resolve) => {
      closing = true;
      operations.releaseWaiters();
      const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections();
    }),
  };
}

/**
 * Answers one request from `table`: matching, query and body checks, the handler, and every
 * error as a JSON answer. Exported for the host agent's API, which serves its own table.
 */
export async function handleApiRequest(table: RouteTable, req: IncomingMessage, res: ServerResponse, closing: () => boolean): Promise<void> {
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  let result: RouteResult;
  try {
    // Prefixed, not resolved: a request for //x must not name a host.
    const url = new URL(`http://vm${req.url ?? '/'}`);
    const { route, params } = table.match(req.method ?? '', url.pathname);
    const query = parseQuery(route.parameters ?? [], url.searchParams);
    let body: unknown;
    if (hasBody(req)) {
      checkBodyHeaders(req);
      body = await readJsonBody(req);
      if (route.body === undefined) throw new VmApiError('invalid-body', `${route.method} ${route.path} takes no body`);
    }
    if (route.body !== undefined && (body !== undefined || route.body.required)) {
      const problem = validate(route.body.schema, body);
      if (problem !== null) throw new VmApiError('invalid-body', problem);
    }
    result = await route.handle({ params, query, body, signal: gone.signal });
  } catch (e) {
    result = errorResponse(e);
    if (e instanceof VmApiError && e.kind === 'method-not-allowed') result.headers = { Allow: String(e.context['allow']) };
    // The rest of a refused body is not read; the connection cannot carry another request.
    if (!req.complete) result.headers = { ...result.headers, Connection: 'close' };
  }
  // A connection kept alive would hold close() up.
  if (closing()) result.headers = { ...result.headers, Connection: 'close' };
  sendResult(res, result);
}

export function sendResult(res: ServerResponse, result: RouteResult): void {
  if (res.headersSent || res.destroyed) return;
  if (result.status === 204) {
    // No Content: no body, so no JSON either.
    res.writeHead(204, result.headers).end();
    return;
  }
  let text: string;
  try {
    text = `${JSON.stringify(result.body)}\n`;
  } catch (e) {
    return sendResult(res, errorResponse(new VmApiError('internal', `the answer could not be encoded as JSON: ${(e as Error).message}`)));
  }
  res.writeHead(result.status, { ...result.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
