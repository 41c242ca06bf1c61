// The agent's API server: the route table of host-routes.ts served by the VM API's request
// handling, on the Unix socket DIR/agent.sock (mode 0600) and optionally on TCP behind a bearer
// token. Console WebSockets arrive as upgrades and pass the same authentication first.

import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { claimSocketPath } from '../../vm/api/claim-socket-path.js';
import { errorResponse } from '../../vm/api/vm-api-error.js';
import { handleApiRequest, sendResult } from '../../vm/api/vm-api-server.js';
import type { RouteTable } from '../../vm/api/route-table.js';
import type { HostAgent } from '../host-agent.js';
import { HostError } from '../host-error.js';
import { bearerAuth, OPEN, type Authenticate } from './bearer-auth.js';
import { ConsoleSockets, refuse } from './console-socket.js';
import { hostApiRoutes } from './host-routes.js';

export interface HostApiServer {
  socketPath: string;
  /** The TCP address, when listening on one (the port chosen when 0 was asked for). */
  tcp: { host: string; port: number } | null;
  close(): Promise<void>;
}

export interface ServeOptions {
  socketPath: string;
  tcp?: { host: string; port: number; token: string };
}

const CONSOLE_URL = /^\/vms\/([^/]+)\/console$/u;
const CLOSE_GRACE_MS = 1000;

export async function serveHostApi(agent: HostAgent, options: ServeOptions): Promise<HostApiServer> {
  const table = hostApiRoutes(agent);
  const consoles = new ConsoleSockets(agent);
  let closing = false;
  const servers: Server[] = [];
  const make = (authenticate: Authenticate): Server => {
    const server = createServer({ requestTimeout: 0 }, (req, res) => serve(table, authenticate, req, res, () => closing));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      try {
        authenticate(req);
        const name = CONSOLE_URL.exec(new URL(`http://agent${req.url ?? '/'}`).pathname)?.[1];
        if (name === undefined) throw new HostError('not-found', `${req.url ?? ''} takes no upgrade; only /vms/{name}/console is a WebSocket`);
        consoles.upgrade(decodeURIComponent(name), req, socket, head);
      } catch (e) {
        refuse(socket, e);
      }
    });
    servers.push(server);
    return server;
  };

  await claimSocketPath(options.socketPath);
  const unix = make(OPEN);
  await listen(unix, () => {
    // Only the agent's user may drive it: created 0600, not left to the umask.
    const umask = process.umask(0o177);
    try {
      unix.listen(options.socketPath);
    } finally {
      process.umask(umask);
    }
  }, options.socketPath);
  await chmod(options.socketPath, 0o600);
  let tcp: HostApiServer['tcp'] = null;
  if (options.tcp !== undefined) {
    const server = make(bearerAuth(options.tcp.token));
    const { host, port } = options.tcp;
    await listen(server, () => server.listen(port, host), `${host}:${port}`);
    const address = server.address();
    tcp = { host, port: typeof address === 'object' && address !== null ? address.port : port };
  }
  return {
    socketPath: options.socketPath,
    tcp,
    close: async () => {
      closing = true;
      consoles.close();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      })));
    },
  };
}

function serve(table: RouteTable, authenticate: Authenticate, req: IncomingMessage, res: ServerResponse, closing: () => boolean): void {
  req.on('error', () => {});
  res.on('error', () => {});
  try {
    authenticate(req);
  } catch (e) {
    // The body is not read: this connection carries no other request.
    sendResult(res, { ...errorResponse(e), headers: { 'WWW-Authenticate': 'Bearer', Connection: 'close' } });
    return;
  }
  handleApiRequest(table, req, res, closing).catch(() => res.destroy());
}

function listen(server: Server, start: () => void, where: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new HostError('io', `cannot serve the agent's API at ${where}: ${e.message}`, { where }, { cause: e })));
    server.once('listening', resolve);
    start();
  });
}
