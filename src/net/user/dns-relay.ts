// The DNS server at 10.0.2.3: relays the guest's UDP queries to the host's resolvers and the
// answers back. Each query goes out with an id of ours (so guests cannot collide or spoof
// each other); answers are matched by that id and the server they came from.

import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { DnsServer } from './user-network-options.js';

export interface DnsClient {
  /** Who asked, as the gateway addresses it (opaque here). */
  reply(payload: Uint8Array): void;
}

export interface DnsRelayOptions {
  servers: readonly DnsServer[];
  /** Queries waiting for an answer at most (default 256); more are dropped. */
  maxPending?: number;
  timeoutMs?: number;
  /** Larger answers are cut to their header with TC set (RFC 1035 4.1.1), so the guest asks again over TCP. */
  maxAnswerBytes?: number;
}

export interface DnsRelayCounters {
  queries: number;
  answers: number;
  timeouts: number;
  /** Queries refused: malformed, table full, no server. */
  dropped: number;
}

interface Pending {
  id: number;
  client: DnsClient;
  server: DnsServer;
  timer: NodeJS.Timeout;
}

const DNS_HEADER_BYTES = 12;

export class DnsRelay {
  private socket: Socket | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly maxPending: number;
  private readonly timeoutMs: number;
  private nextId = Math.floor(Math.random() * 0x10000);
  private nextServer = 0;
  private closed = false;
  readonly counters: DnsRelayCounters = { queries: 0, answers: 0, timeouts: 0, dropped: 0 };

  constructor(private readonly options: DnsRelayOptions) {
    this.maxPending = options.maxPending ?? 256;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  query(payload: Uint8Array, client: DnsClient): void {
    const servers = this.options.servers;
    if (this.closed || payload.length < DNS_HEADER_BYTES || servers.length === 0 || this.pending.size >= this.maxPending) {
      this.counters.dropped++;
      return;
    }
    let id = this.nextId;
    while (this.pending.has(id)) id = (id + 1) & 0xffff;
    this.nextId = (id + 1) & 0xffff;
    // Successive queries rotate over the servers, so a dead first server slows only some.
    const server = servers[this.nextServer++ % servers.length]!;
    const originalId = (payload[0]! << 8) | payload[1]!;
    const message = Buffer.from(payload);
    message.writeUInt16BE(id, 0);
    const timer = setTimeout(() => {
      this.pending.delete(id);
      this.counters.timeouts++;
    }, this.timeoutMs);
    this.pending.set(id, { id: originalId, client, server, timer });
    this.counters.queries++;
    this.open().send(message, server.port, server.address, (error) => {
      if (error) this.forget(id);
    });
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.forget(id);
    this.socket?.close();
    this.socket = null;
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = createSocket('udp4');
    socket.on('message', (message, from) => this.answer(message, from.address, from.port));
    socket.on('error', () => {}); // a send error is handled per query; nothing else can arrive
    this.socket = socket;
    return socket;
  }

  private answer(message: Buffer, address: string, port: number): void {
    if (message.length < DNS_HEADER_BYTES) return;
    const id = message.readUInt16BE(0);
    const entry = this.pending.get(id);
    if (entry === undefined || entry.server.address !== address || entry.server.port !== port) return;
    this.forget(id);
    const tooLarge = message.length > (this.options.maxAnswerBytes ?? Infinity);
    const reply = tooLarge ? Uint8Array.from(message.subarray(0, DNS_HEADER_BYTES)) : Uint8Array.from(message);
    if (tooLarge) {
      reply[2]! |= 0x02; // TC
      reply.fill(0, 4, DNS_HEADER_BYTES); // no question or records follow
    }
    reply[0] = entry.id >>> 8;
    reply[1] = entry.id & 0xff;
    this.counters.answers++;
    entry.client.reply(reply);
  }

  private forget(id: number): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.pending.delete(id);
  }
}

/** The IPv4 nameservers in a resolv.conf (port 53), in order. */
export function hostDnsServers(path = '/etc/resolv.conf'): DnsServer[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!).filter((a) => isIP(a) === 4).map((address) => ({ address, port: 53 }));
}
