// GET /vms/{name}/console as a WebSocket (RFC 6455, by the ws package): the console's recent
// tail first, then its output as it comes, and what the client sends typed into the guest.
// A slow client is cut off rather than allowed to hold output in the agent's memory.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { errorResponse } from '../../vm/api/vm-api-error.js';
import type { HostAgent } from '../host-agent.js';
import { HostError } from '../host-error.js';

/** Output queued to one client beyond this closes it (1008, policy). */
const MAX_BUFFERED = 4 * 1024 * 1024;

export class ConsoleSockets {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  constructor(private readonly agent: HostAgent) {}

  /** Upgrades `req` for VM `name`'s console, or answers it with the JSON error. */
  upgrade(name: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      const vm = this.agent.get(name);
      if (vm.process === null) throw new HostError('invalid-state', `VM ${name} is ${vm.state}: its console exists only while it runs; start it first`, { vm: name });
      this.server.handleUpgrade(req, socket, head, (ws) => this.attach(name, ws));
    } catch (e) {
      refuse(socket, e);
    }
  }

  close(): void {
    for (const client of this.server.clients) client.terminate();
    this.server.close();
  }

  private attach(name: string, ws: WebSocket): void {
    const vm = this.agent.get(name);
    const child = vm.process;
    if (child === null) {
      ws.close(1011, 'the VM stopped');
      return;
    }
    ws.send(vm.console.tail());
    const detach = vm.console.subscribe((bytes) => {
      if (ws.bufferedAmount > MAX_BUFFERED) ws.close(1008, 'the client does not keep up with the console');
      else ws.send(bytes);
    });
    const ended = (): void => ws.close(1000, 'the VM stopped');
    void child.exited.then(ended);
    ws.on('message', (data: RawData) => {
      if (vm.process === child) child.stdin.write(toBuffer(data));
    });
    ws.on('close', detach);
    ws.on('error', detach);
  }
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
}

/** Answers a refused upgrade with the API's JSON error and closes the connection. */
export function refuse(socket: Duplex, e: unknown): void {
  const { status, body } = errorResponse(e);
  const text = `${JSON.stringify(body)}\n`;
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}
