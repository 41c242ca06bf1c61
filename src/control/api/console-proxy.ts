// GET /api/v1/vms/{id}/console as a WebSocket: the master checks who asks (token, or session
// cookie from the master's own origin: a page of another site must not open a console with a
// visitor's cookie), checks vm.console on the VM, then joins the browser to the console
// WebSocket of the VM's host agent, bytes both ways, and audits it.

import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { MasterServices } from '../master-services.js';
import { authorize, authorizedScopes } from '../security/permissions.js';
import { hashToken } from '../security/secret-tokens.js';
import { appendAudit } from '../store/audit-log.js';
import { repositories } from '../store/repositories.js';
import type { VirtualMachine } from '../store/virtual-machines.js';
import { callerOf, fromToken, SESSION_COOKIE } from './authenticate.js';
import type { Caller } from './caller.js';
import { MasterApiError, problemFor } from './master-api-error.js';

const CONSOLE_PATH = /^\/api\/v1\/vms\/([0-9a-f-]{36})\/console$/u;
/** Output queued to a slow browser beyond this closes it, so it cannot hold the master's memory. */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** Where a VM's console is: its agent's WebSocket URL and the headers to open it. */
export type ConsoleLocator = (vm: VirtualMachine) => Promise<{ url: string; headers: Record<string, string> }>;

export function serveConsoles(server: Server, master: MasterServices, locate: ConsoleLocator): () => void {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = new URL(req.url ?? '/', 'https://master').pathname;
    const match = CONSOLE_PATH.exec(path);
    if (match === null) return refuse(socket, new MasterApiError('not-found', `no WebSocket at ${path}`), path);
    void open(req, socket, head, match[1]!).catch((e: unknown) => refuse(socket, e, path));
  };
  const open = async (req: IncomingMessage, socket: Duplex, head: Buffer, id: string): Promise<void> => {
    const caller = await callerOfUpgrade(master, req);
    const vm = await repositories(master.store.db).virtualMachines.get(id);
    const target = { tenantId: vm.tenant_id, dataCenterId: vm.data_center_id };
    const verdict = authorize(caller, 'vm.console', target);
    if (!verdict.allowed) {
      const reach = authorizedScopes(caller, 'vm.console');
      if (reach.everywhere || reach.dataCenterIds.length > 0 || reach.tenantIds.length > 0) throw new MasterApiError('not-found', `no such VM: ${id}`);
      throw new MasterApiError('forbidden', `${caller.userName} may not open consoles: ${verdict.reason}`);
    }
    if (vm.host_id === null) throw new MasterApiError('conflict', `VM ${vm.name} is on no host yet; start it first`);
    const { url, headers } = await locate(vm);
    const upstream = new WebSocket(url, { headers, maxPayload: 1 << 20 });
    await new Promise<void>((resolve, reject) => {
      upstream.once('open', resolve);
      upstream.once('unexpected-response', (_r, response) => reject(new MasterApiError('conflict', `the host agent refused the console of ${vm.name} (HTTP ${response.statusCode}); is it running?`)));
      upstream.once('error', (e) => reject(new MasterApiError('unavailable', `cannot reach the console of ${vm.name} on its host: ${e.message}`)));
    });
    await appendAudit(master.store.db, {
      actor_id: caller.userId, actor_name: caller.userName, action: 'vm.console', target: `vm:${vm.id}`, outcome: 'success', source_ip: caller.sourceIp, detail: target,
    });
    sockets.handleUpgrade(req, socket, head, (client) => join(client, upstream));
  };
  server.on('upgrade', onUpgrade);
  return () => {
    server.off('upgrade', onUpgrade);
    for (const client of sockets.clients) client.terminate();
    sockets.close();
  };
}

function join(client: WebSocket, upstream: WebSocket): void {
  upstream.on('message', (data: RawData) => {
    if (client.bufferedAmount > MAX_BUFFERED) client.close(1008, 'the client does not keep up with the console');
    else client.send(data);
  });
  client.on('message', (data: RawData) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data);
  });
  upstream.on('close', (code, reason) => client.close(code === 1005 || code === 1006 ? 1011 : code, reason.toString()));
  client.on('close', () => upstream.close());
  upstream.on('error', () => client.terminate());
  client.on('error', () => upstream.terminate());
}

async function callerOfUpgrade(master: MasterServices, req: IncomingMessage): Promise<Caller> {
  const ip = req.socket.remoteAddress ?? 'unknown';
  if (req.headers.authorization !== undefined) return fromToken(master, req.headers.authorization, ip);
  const cookie = readCookie(req.headers.cookie ?? '', SESSION_COOKIE);
  if (cookie === undefined) throw new MasterApiError('unauthenticated', 'log in first: the console needs a session or an API token');
  const origin = req.headers.origin;
  if (origin === undefined || origin !== `https://${req.headers.host ?? ''}`) {
    throw new MasterApiError('csrf-failed', `a console opened with a session cookie must come from the master's own pages, not ${origin ?? 'an unknown origin'}`);
  }
  const now = master.clock.now();
  const session = await repositories(master.store.db).sessions.findUsable(hashToken(cookie), new Date(now).toISOString());
  if (session === undefined || now - Date.parse(session.last_seen_at) > master.sessions.idleMs) throw new MasterApiError('unauthenticated', 'the session has ended; log in again');
  return { ...(await callerOf(master, session.user_id, 'session', ip)), sessionId: session.id };
}

function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

function refuse(socket: Duplex, e: unknown, path: string): void {
  const problem = problemFor(e, path);
  const text = JSON.stringify(problem);
  socket.end(`HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
