// The gateway's TCP connection table: guest connections to allowed destinations become host
// sockets; host connections accepted by hostfwd become connections into the guest. Bounded.

import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { IpProtocol } from '../ipv4.js';
import type { Ipv4Address } from '../ipv4.js';
import { TcpFlag, buildTcp, seqAdd } from '../tcp.js';
import type { TcpSegment } from '../tcp.js';
import type { AddressPolicy } from './address-policy.js';
import type { GatewayLink } from './gateway-link.js';
import { TcpConnection } from './tcp-connection.js';
import type { TcpCounters } from './tcp-connection.js';

/** How long a host connect may take before the guest's connection is refused. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface TcpNatCounters extends TcpCounters {
  opened: number;
  /** Guest connections refused by the policy, by the host, or because the table was full. */
  refused: number;
  tableFull: number;
}

interface Entry {
  connection: TcpConnection;
  /** The gateway port this entry holds (hostfwd connections), released when it ends. */
  gatewayPort?: number;
}

export class TcpNat {
  private readonly table = new Map<string, Entry>();
  readonly counters: TcpNatCounters = { opened: 0, refused: 0, tableFull: 0, retransmits: 0, segmentsDropped: 0, resets: 0 };

  constructor(
    private readonly link: GatewayLink,
    private readonly policy: AddressPolicy,
    private readonly limit: number,
  ) {}

  get size(): number {
    return this.table.size;
  }

  /** A segment from the guest (`src`) to `dst`. */
  onSegment(src: Ipv4Address, dst: Ipv4Address, seg: TcpSegment): void {
    const key = keyOf(src, seg.srcPort, dst, seg.dstPort);
    const entry = this.table.get(key);
    const isSyn = (seg.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN;
    if (entry !== undefined && !(isSyn && entry.connection.state === 'time-wait')) {
      entry.connection.onSegment(seg);
      return;
    }
    if (entry !== undefined) this.forget(key, entry); // a new connection reusing a lingering one's ports
    if (!isSyn) {
      // RFC 9293 3.10.7.1: a segment for no connection gets a reset (never a reset for a reset).
      if ((seg.flags & TcpFlag.RST) === 0) this.refuse(src, dst, seg);
      return;
    }
    const destination = this.policy.resolve('tcp', dst, seg.dstPort);
    if (!destination.allowed) {
      this.counters.refused++;
      this.refuse(src, dst, seg);
      return;
    }
    if (this.table.size >= this.limit) {
      this.counters.tableFull++;
      this.counters.refused++;
      this.refuse(src, dst, seg);
      return;
    }
    const connection = TcpConnection.fromGuestSyn(seg, this.hooks(key, src, seg.srcPort, dst, seg.dstPort));
    this.table.set(key, { connection });
    this.counters.opened++;
    const socket = connect({ host: destination.host, port: destination.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      connection.hostConnected(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      if (connection.state === 'connecting') this.counters.refused++;
      connection.hostFailed();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      connection.hostFailed();
    });
  }

  /** A host connection (hostfwd) into the guest at `guestIp:guestPort`, from the gateway. */
  connectToGuest(socket: Socket, from: Ipv4Address, guestIp: Ipv4Address, guestPort: number): void {
    const port = this.table.size < this.limit ? this.link.allocatePort('tcp') : undefined;
    if (port === undefined) {
      this.counters.tableFull++;
      socket.destroy();
      return;
    }
    const key = keyOf(guestIp, guestPort, from, port);
    const connection = TcpConnection.toGuest(socket, this.hooks(key, guestIp, guestPort, from, port));
    this.table.set(key, { connection, gatewayPort: port });
    this.counters.opened++;
  }

  close(): void {
    for (const entry of [...this.table.values()]) entry.connection.abort();
    this.table.clear();
  }

  private hooks(key: string, guestIp: Ipv4Address, guestPort: number, remoteIp: Ipv4Address, remotePort: number) {
    return {
      counters: this.counters,
      send: (segment: TcpSegment) => this.link.sendIpv4(remoteIp, guestIp, IpProtocol.TCP, buildTcp({ ...segment, srcPort: remotePort, dstPort: guestPort }, remoteIp, guestIp)),
      closed: () => {
        const entry = this.table.get(key);
        if (entry !== undefined && entry.connection.isClosed()) this.forget(key, entry);
      },
    };
  }

  private forget(key: string, entry: Entry): void {
    this.table.delete(key);
    if (entry.gatewayPort !== undefined) this.link.releasePort('tcp', entry.gatewayPort);
    entry.connection.abort();
  }

  /** RFC 9293 3.10.7.1: the reset answering a segment that has no connection. */
  private refuse(src: Ipv4Address, dst: Ipv4Address, seg: TcpSegment): void {
    const hasAck = (seg.flags & TcpFlag.ACK) !== 0;
    const length = seg.payload.length + ((seg.flags & TcpFlag.SYN) !== 0 ? 1 : 0) + ((seg.flags & TcpFlag.FIN) !== 0 ? 1 : 0);
    const reset: TcpSegment = {
      srcPort: seg.dstPort,
      dstPort: seg.srcPort,
      seq: hasAck ? seg.ack : 0,
      ack: hasAck ? 0 : seqAdd(seg.seq, length),
      flags: hasAck ? TcpFlag.RST : TcpFlag.RST | TcpFlag.ACK,
      window: 0,
      payload: new Uint8Array(0),
    };
    this.link.sendIpv4(dst, src, IpProtocol.TCP, buildTcp(reset, dst, src));
  }
}

function keyOf(guestIp: string, guestPort: number, remoteIp: string, remotePort: number): string {
  return `${guestIp}:${guestPort}>${remoteIp}:${remotePort}`;
}
