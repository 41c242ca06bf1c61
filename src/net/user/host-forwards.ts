// hostfwd: the gateway listens on host addresses and carries each accepted TCP connection, or
// each UDP peer's datagrams, into the guest from the gateway's address.

import { createSocket } from 'node:dgram';
import type { Socket as DgramSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { IpProtocol } from '../ipv4.js';
import type { Ipv4Address } from '../ipv4.js';
import { buildUdp } from '../udp.js';
import type { UdpDatagram } from '../udp.js';
import type { GatewayLink } from './gateway-link.js';
import type { TcpNat } from './tcp-nat.js';
import type { HostForward } from './user-network-options.js';

/** A forward as it listens: `hostPort` is the real port when the rule asked for 0. */
export interface BoundForward extends HostForward {
  hostPort: number;
}

const UDP_PEER_IDLE_MS = 60_000;

interface UdpPeer {
  address: string;
  port: number;
  socket: DgramSocket;
  lastUsed: number;
}

export class HostForwards {
  private readonly servers: Server[] = [];
  private readonly sockets: DgramSocket[] = [];
  /** Gateway UDP port -> the host peer whose datagrams use it. */
  private readonly udpPeers = new Map<number, UdpPeer>();
  private readonly peerPorts = new Map<string, number>();
  readonly bound: BoundForward[] = [];

  constructor(
    private readonly link: GatewayLink,
    private readonly tcp: TcpNat,
    private readonly gateway: Ipv4Address,
    /** The guest address when a rule names none (the DHCP lease, else the first pool address). */
    private readonly guestAddress: () => Ipv4Address,
    private readonly udpLimit: number,
  ) {}

  /** Opens every listener; on failure closes those already open and throws the listen error. */
  async start(rules: readonly HostForward[]): Promise<BoundForward[]> {
    try {
      for (const rule of rules) this.bound.push(rule.protocol === 'tcp' ? await this.listenTcp(rule) : await this.listenUdp(rule));
    } catch (e) {
      this.close();
      throw e;
    }
    return this.bound;
  }

  /** A datagram from the guest to the gateway's `udp.dstPort`: an answer to a hostfwd peer? */
  guestUdp(udp: UdpDatagram): boolean {
    const peer = this.udpPeers.get(udp.dstPort);
    if (peer === undefined) return false;
    peer.lastUsed = Date.now();
    peer.socket.send(udp.payload, peer.port, peer.address);
    return true;
  }

  close(): void {
    for (const server of this.servers.splice(0)) server.close();
    for (const socket of this.sockets.splice(0)) socket.close();
    this.udpPeers.clear();
    this.peerPorts.clear();
  }

  private listenTcp(rule: HostForward): Promise<BoundForward> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
      socket.setNoDelay(true);
      const guestIp = (rule.guestAddress as Ipv4Address | undefined) ?? this.guestAddress();
      this.tcp.connectToGuest(socket, this.gateway, guestIp, rule.guestPort);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(rule.hostPort, rule.hostAddress, () => {
        server.off('error', reject);
        server.on('error', (e) => this.link.log(`hostfwd tcp ${rule.hostAddress}:${rule.hostPort}: ${e.message}`));
        const address = server.address();
        resolve({ ...rule, hostPort: typeof address === 'object' && address !== null ? address.port : rule.hostPort });
      });
    });
  }

  private listenUdp(rule: HostForward): Promise<BoundForward> {
    const socket = createSocket('udp4');
    this.sockets.push(socket);
    socket.on('message', (message, from) => this.fromUdpPeer(rule, socket, message, from.address, from.port));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(rule.hostPort, rule.hostAddress, () => {
        socket.off('error', reject);
        socket.on('error', () => {});
        resolve({ ...rule, hostPort: socket.address().port });
      });
    });
  }

  private fromUdpPeer(rule: HostForward, socket: DgramSocket, message: Buffer, address: string, port: number): void {
    const peerKey = `${address}:${port}>${rule.guestPort}`;
    let gatewayPort = this.peerPorts.get(peerKey);
    if (gatewayPort === undefined) {
      this.expirePeers();
      gatewayPort = this.udpPeers.size < this.udpLimit ? this.link.allocatePort('udp') : undefined;
      if (gatewayPort === undefined) return;
      this.peerPorts.set(peerKey, gatewayPort);
      this.udpPeers.set(gatewayPort, { address, port, socket, lastUsed: Date.now() });
    }
    this.udpPeers.get(gatewayPort)!.lastUsed = Date.now();
    const guestIp = (rule.guestAddress as Ipv4Address | undefined) ?? this.guestAddress();
    this.link.sendIpv4(this.gateway, guestIp, IpProtocol.UDP, buildUdp({ srcPort: gatewayPort, dstPort: rule.guestPort, payload: message }, this.gateway, guestIp));
  }

  private expirePeers(): void {
    const now = Date.now();
    for (const [key, gatewayPort] of this.peerPorts) {
      const peer = this.udpPeers.get(gatewayPort);
      if (peer !== undefined && now - peer.lastUsed < UDP_PEER_IDLE_MS) continue;
      this.peerPorts.delete(key);
      this.udpPeers.delete(gatewayPort);
      this.link.releasePort('udp', gatewayPort);
    }
  }
}
