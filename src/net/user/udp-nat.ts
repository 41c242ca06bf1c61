// UDP flows of the guest: one host datagram socket per (guest port, destination), answers from
// that destination relayed back, flows expiring when idle; bounded, least recently used out first.

import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { IpProtocol } from '../ipv4.js';
import type { Ipv4Address } from '../ipv4.js';
import { buildUdp } from '../udp.js';
import type { UdpDatagram } from '../udp.js';
import type { GatewayLink } from './gateway-link.js';

export interface UdpNatCounters {
  flowsOpened: number;
  flowsExpired: number;
  /** Flows closed early because the table was full. */
  flowsEvicted: number;
  datagramsOut: number;
  datagramsIn: number;
}

interface Flow {
  socket: Socket;
  guestIp: Ipv4Address;
  guestPort: number;
  /** The address the guest sent to (answers come from it). */
  remoteIp: Ipv4Address;
  remotePort: number;
  /** Where the host socket sends. */
  host: string;
  hostPort: number;
  lastUsed: number;
}

export class UdpNat {
  /** Insertion order is kept as recency order: a used flow moves to the end. */
  private readonly flows = new Map<string, Flow>();
  private readonly sweeper: NodeJS.Timeout;
  readonly counters: UdpNatCounters = { flowsOpened: 0, flowsExpired: 0, flowsEvicted: 0, datagramsOut: 0, datagramsIn: 0 };

  constructor(
    private readonly link: GatewayLink,
    private readonly limit: number,
    private readonly idleMs: number,
  ) {
    this.sweeper = setInterval(() => this.expire(), Math.max(100, Math.min(idleMs / 2, 10_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.flows.size;
  }

  /** A datagram from the guest to `dst`, allowed by the policy to go to host:hostPort. */
  send(src: Ipv4Address, dst: Ipv4Address, udp: UdpDatagram, host: string, hostPort: number): void {
    const key = `${src}:${udp.srcPort}>${dst}:${udp.dstPort}`;
    let flow = this.flows.get(key);
    if (flow === undefined) flow = this.open(key, src, udp.srcPort, dst, udp.dstPort, host, hostPort);
    else this.flows.delete(key);
    this.flows.set(key, flow);
    flow.lastUsed = Date.now();
    this.counters.datagramsOut++;
    flow.socket.send(udp.payload, flow.hostPort, flow.host);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const flow of this.flows.values()) flow.socket.close();
    this.flows.clear();
  }

  private open(key: string, guestIp: Ipv4Address, guestPort: number, remoteIp: Ipv4Address, remotePort: number, host: string, hostPort: number): Flow {
    if (this.flows.size >= this.limit) {
      const [oldestKey, oldest] = this.flows.entries().next().value as [string, Flow];
      this.flows.delete(oldestKey);
      oldest.socket.close();
      this.counters.flowsEvicted++;
    }
    const socket = createSocket('udp4');
    const flow: Flow = { socket, guestIp, guestPort, remoteIp, remotePort, host, hostPort, lastUsed: Date.now() };
    socket.on('message', (message, from) => {
      // Only the destination may answer (a port-restricted NAT): others cannot reach the guest.
      if (from.port !== hostPort || !sameHost(from.address, host) || this.flows.get(key) !== flow) return;
      flow.lastUsed = Date.now();
      this.counters.datagramsIn++;
      this.link.sendIpv4(remoteIp, guestIp, IpProtocol.UDP, buildUdp({ srcPort: remotePort, dstPort: guestPort, payload: message }, remoteIp, guestIp));
    });
    socket.on('error', () => {}); // e.g. ICMP port unreachable reported on a later send: the guest hears nothing, as on a real network
    this.counters.flowsOpened++;
    return flow;
  }

  private expire(): void {
    const now = Date.now();
    for (const [key, flow] of this.flows) {
      if (now - flow.lastUsed < this.idleMs) continue;
      this.flows.delete(key);
      flow.socket.close();
      this.counters.flowsExpired++;
    }
  }
}

function sameHost(a: string, b: string): boolean {
  return a === b || (b === 'localhost' && a === '127.0.0.1');
}
