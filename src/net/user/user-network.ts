// User-mode networking: a gateway on a VirtualSwitch port for the 10.0.2.0/24 network that
// gives guests DHCP, DNS, and TCP/UDP to the outside through the host's own sockets, with no
// root and no TAP device. Host address 10.0.2.2, DNS 10.0.2.3, guests from 10.0.2.15.

import { ArpOperation, buildArp, parseArp } from '../arp.js';
import { ArpCache } from '../arp-cache.js';
import { EtherType, buildEthernet, parseEthernet } from '../ethernet.js';
import { HostEndpoint } from '../host-endpoint.js';
import { IcmpType, UnreachableCode, buildIcmpEcho, buildIcmpUnreachable, parseIcmpEcho } from '../icmp.js';
import { IpProtocol, buildIpv4, ipv4Address, parseIpv4 } from '../ipv4.js';
import type { Ipv4Address, Ipv4Packet } from '../ipv4.js';
import { BROADCAST_MAC, isGroupMac } from '../mac-address.js';
import type { MacAddress } from '../mac-address.js';
import { parseTcp } from '../tcp.js';
import { parseUdp, buildUdp } from '../udp.js';
import type { VirtualSwitch } from '../virtual-switch.js';
import { AddressPolicy } from './address-policy.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, DhcpServer } from './dhcp-server.js';
import { DnsRelay, hostDnsServers } from './dns-relay.js';
import type { GatewayLink } from './gateway-link.js';
import { HostForwards } from './host-forwards.js';
import type { BoundForward } from './host-forwards.js';
import { TcpNat } from './tcp-nat.js';
import { UdpNat } from './udp-nat.js';
import type { UserNetworkOptions } from './user-network-options.js';
import { GATEWAY_ADDRESS } from './user-network-options.js';

export const GATEWAY_IP = ipv4Address(GATEWAY_ADDRESS);
export const DNS_IP = ipv4Address('10.0.2.3');
export const FIRST_GUEST_IP = ipv4Address('10.0.2.15');
const LAST_GUEST_IP = ipv4Address('10.0.2.254');
const NETWORK = ipv4Address('10.0.2.0');
const NETMASK = ipv4Address('255.255.255.0');
const BROADCAST = ipv4Address('10.0.2.255');
const DNS_PORT = 53;
const FIRST_GATEWAY_PORT = 49152;
/** The most a UDP datagram to the guest carries in one 1500-byte packet (no fragments are sent). */
const MAX_UDP_PAYLOAD = 1500 - 20 - 8;

export class UserNetworkError extends Error {
  readonly kind = 'user-network';
}

export interface UserNetworkSettings extends Partial<UserNetworkOptions> {
  /** The gateway's MAC (default 52:54:00:00:02:02). */
  mac?: MacAddress;
  /** TCP connections at most (default 256); more are refused with a reset. */
  maxTcpConnections?: number;
  /** UDP flows at most (default 256); the least recently used goes first. */
  maxUdpFlows?: number;
  udpIdleMs?: number;
  dnsTimeoutMs?: number;
  /** Frames waiting for the gateway at most (default 1024). */
  queueCapacity?: number;
  log?: (line: string) => void;
}

export interface UserNetworkCounters {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Frames that were not well-formed (bad length, header, checksum). */
  malformed: number;
  /** Well-formed frames not handled: not for the gateway, unsupported protocol, refused by policy. */
  ignored: number;
  /** Datagrams and connections refused by the address policy. */
  refused: number;
  arpReplies: number;
  echoReplies: number;
  dhcpReplies: number;
  tcp: TcpNat['counters'];
  tcpConnections: number;
  udp: UdpNat['counters'];
  udpFlows: number;
  dns: DnsRelay['counters'];
}

export class UserNetwork {
  readonly endpoint: HostEndpoint;
  readonly mac: MacAddress;
  private readonly arp = new ArpCache(256);
  private readonly dhcp: DhcpServer;
  private readonly dns: DnsRelay;
  private readonly tcp: TcpNat;
  private readonly udp: UdpNat;
  private readonly policy: AddressPolicy;
  private readonly forwards: HostForwards;
  private readonly usedPorts = { tcp: new Set<number>(), udp: new Set<number>() };
  private readonly reservedPorts: ReadonlySet<number>;
  private nextPort = FIRST_GATEWAY_PORT;
  private readonly stats = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, malformed: 0, ignored: 0, refused: 0, arpReplies: 0, echoReplies: 0, dhcpReplies: 0 };
  private readonly log: (line: string) => void;
  private closed = false;

  constructor(sw: VirtualSwitch, private readonly settings: UserNetworkSettings = {}) {
    this.mac = settings.mac ?? ('52:54:00:00:02:02' as MacAddress);
    this.log = settings.log ?? (() => {});
    const guestForwards = settings.guestForwards ?? [];
    this.reservedPorts = new Set(guestForwards.map((f) => f.guestPort));
    const dnsServers = settings.dnsServers ?? hostDnsServers();
    this.policy = new AddressPolicy(GATEWAY_IP, { base: NETWORK, prefix: 24 }, guestForwards, dnsServers[0] && { address: DNS_IP, server: dnsServers[0] });
    this.dhcp = new DhcpServer({ server: GATEWAY_IP, dns: DNS_IP, netmask: NETMASK, broadcast: BROADCAST, poolFirst: FIRST_GUEST_IP, poolLast: LAST_GUEST_IP });
    this.dns = new DnsRelay({ servers: dnsServers, maxAnswerBytes: MAX_UDP_PAYLOAD, ...(settings.dnsTimeoutMs !== undefined ? { timeoutMs: settings.dnsTimeoutMs } : {}) });
    const link = this.link();
    this.tcp = new TcpNat(link, this.policy, settings.maxTcpConnections ?? 256);
    this.udp = new UdpNat(link, settings.maxUdpFlows ?? 256, settings.udpIdleMs ?? 60_000);
    this.forwards = new HostForwards(link, this.tcp, GATEWAY_IP, () => this.dhcp.lastLease ?? FIRST_GUEST_IP, settings.maxUdpFlows ?? 256);
    this.endpoint = new HostEndpoint(sw, { name: 'user-network', delivery: 'microtask', queueCapacity: settings.queueCapacity ?? 1024 });
    this.endpoint.onFrame((frame) => this.handleSafely(frame));
  }

  /** Opens the hostfwd listeners; resolves with each one's real host address and port. */
  async start(): Promise<BoundForward[]> {
    try {
      return await this.forwards.start(this.settings.hostForwards ?? []);
    } catch (e) {
      throw new UserNetworkError(`cannot open a hostfwd listener: ${(e as Error).message}; pick another host port, or 0 for any`, { cause: e });
    }
  }

  get hostForwards(): readonly BoundForward[] {
    return this.forwards.bound;
  }

  /** The address DHCP gave `mac`, if any. */
  leaseOf(mac: MacAddress): Ipv4Address | undefined {
    return this.dhcp.leaseOf(mac);
  }

  get counters(): UserNetworkCounters {
    return { ...this.stats, tcp: { ...this.tcp.counters }, tcpConnections: this.tcp.size, udp: { ...this.udp.counters }, udpFlows: this.udp.size, dns: { ...this.dns.counters } };
  }

  /** Handles queued frames now (they are also handled by themselves in a microtask). */
  poll(): number {
    return this.endpoint.poll();
  }

  /** Closes every connection, flow, listener and socket, and leaves the switch. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forwards.close();
    this.tcp.close();
    this.udp.close();
    this.dns.close();
    this.endpoint.close();
  }

  private link(): GatewayLink {
    return {
      sendIpv4: (src, dst, protocol, payload) => this.sendIpv4(src, dst, protocol, payload),
      allocatePort: (protocol) => this.allocatePort(protocol),
      releasePort: (protocol, port) => this.usedPorts[protocol].delete(port),
      log: this.log,
    };
  }

  private handleSafely(frame: Uint8Array): void {
    this.stats.framesIn++;
    this.stats.bytesIn += frame.length;
    try {
      this.handle(frame);
    } catch (error) {
      // A frame must never break the run loop; whatever went wrong is counted and logged once per kind.
      this.stats.malformed++;
      this.log(`user network: dropped a frame: ${String(error)}`);
    }
  }

  private handle(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (eth === undefined || isGroupMac(eth.src)) return void this.stats.malformed++;
    if (eth.vlan !== undefined || (eth.dst !== this.mac && !isGroupMac(eth.dst))) return void this.stats.ignored++;
    if (eth.etherType === EtherType.ARP) return this.handleArp(eth.payload);
    if (eth.etherType !== EtherType.IPV4) return void this.stats.ignored++;
    const ip = parseIpv4(eth.payload);
    if (ip === undefined) return void this.stats.malformed++;
    // The guest's address is learned from what it sends (a DHCP DISCOVER comes from 0.0.0.0).
    if (ip.src !== '0.0.0.0' && ip.src !== GATEWAY_IP && ip.src !== DNS_IP) this.arp.set(ip.src, eth.src);
    if (ip.protocol === IpProtocol.UDP) return this.handleUdp(eth.src, ip, eth.dst === this.mac);
    if (eth.dst !== this.mac) return void this.stats.ignored++;
    if (ip.protocol === IpProtocol.TCP) {
      const seg = parseTcp(ip.payload, ip.src, ip.dst);
      if (seg === undefined) return void this.stats.malformed++;
      return this.tcp.onSegment(ip.src, ip.dst, seg);
    }
    if (ip.protocol === IpProtocol.ICMP) return this.handleIcmp(ip);
    this.stats.ignored++;
  }

  private handleArp(payload: Uint8Array): void {
    const arp = parseArp(payload);
    if (arp === undefined || isGroupMac(arp.senderMac)) return void this.stats.malformed++;
    if (arp.senderIp !== '0.0.0.0') this.arp.set(arp.senderIp, arp.senderMac);
    if (arp.operation !== ArpOperation.REQUEST || (arp.targetIp !== GATEWAY_IP && arp.targetIp !== DNS_IP)) return void this.stats.ignored++;
    const reply = buildArp({ operation: ArpOperation.REPLY, senderMac: this.mac, senderIp: arp.targetIp, targetMac: arp.senderMac, targetIp: arp.senderIp });
    this.sendFrame(arp.senderMac, EtherType.ARP, reply);
    this.stats.arpReplies++;
  }

  private handleIcmp(ip: Ipv4Packet): void {
    const echo = parseIcmpEcho(ip.payload);
    if (echo === undefined || echo.type !== IcmpType.ECHO_REQUEST || (ip.dst !== GATEWAY_IP && ip.dst !== DNS_IP)) return void this.stats.ignored++;
    const reply = buildIcmpEcho({ type: IcmpType.ECHO_REPLY, identifier: echo.identifier, sequence: echo.sequence, data: echo.data });
    if (this.sendIpv4(ip.dst, ip.src, IpProtocol.ICMP, reply)) this.stats.echoReplies++;
  }

  private handleUdp(srcMac: MacAddress, ip: Ipv4Packet, unicast: boolean): void {
    const udp = parseUdp(ip.payload, ip.src, ip.dst);
    if (udp === undefined) return void this.stats.malformed++;
    if (udp.dstPort === DHCP_SERVER_PORT && udp.srcPort === DHCP_CLIENT_PORT) {
      const reply = this.dhcp.handle(udp.payload);
      if (reply === undefined) return void this.stats.ignored++;
      const datagram = buildUdp({ srcPort: DHCP_SERVER_PORT, dstPort: DHCP_CLIENT_PORT, payload: reply.payload }, GATEWAY_IP, reply.dstIp);
      this.sendFrame(reply.dstMac === BROADCAST_MAC ? BROADCAST_MAC : srcMac, EtherType.IPV4, buildIpv4({ src: GATEWAY_IP, dst: reply.dstIp, protocol: IpProtocol.UDP, payload: datagram }));
      this.stats.dhcpReplies++;
      return;
    }
    if (!unicast) return void this.stats.ignored++;
    if (ip.dst === DNS_IP) {
      if (udp.dstPort !== DNS_PORT) return this.unreachable(ip, UnreachableCode.PORT);
      const { src, srcPort } = { src: ip.src, srcPort: udp.srcPort };
      this.dns.query(udp.payload, { reply: (answer) => this.sendIpv4(DNS_IP, src, IpProtocol.UDP, buildUdp({ srcPort: DNS_PORT, dstPort: srcPort, payload: answer }, DNS_IP, src)) });
      return;
    }
    if (ip.dst === GATEWAY_IP && this.forwards.guestUdp(udp)) return;
    const destination = this.policy.resolve('udp', ip.dst, udp.dstPort);
    if (!destination.allowed) return this.unreachable(ip, UnreachableCode.ADMIN_PROHIBITED);
    this.udp.send(ip.src, ip.dst, udp, destination.host, destination.port);
  }

  /** RFC 792 destination unreachable back to the guest, for a datagram the policy refuses. */
  private unreachable(ip: Ipv4Packet, code: UnreachableCode): void {
    this.stats.refused++;
    const original = buildIpv4({ src: ip.src, dst: ip.dst, protocol: ip.protocol, payload: ip.payload, ttl: ip.ttl, identification: ip.identification });
    this.sendIpv4(ip.dst === DNS_IP ? DNS_IP : GATEWAY_IP, ip.src, IpProtocol.ICMP, buildIcmpUnreachable(code, original));
  }

  private sendIpv4(src: Ipv4Address, dst: Ipv4Address, protocol: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const mac = this.arp.get(dst);
    if (mac === undefined) {
      // Not heard from yet (a hostfwd connection before the guest sent anything): ask; the sender retries.
      const request = buildArp({ operation: ArpOperation.REQUEST, senderMac: this.mac, senderIp: GATEWAY_IP, targetMac: '00:00:00:00:00:00' as MacAddress, targetIp: dst });
      this.sendFrame(BROADCAST_MAC, EtherType.ARP, request);
      return false;
    }
    this.sendFrame(mac, EtherType.IPV4, buildIpv4({ src, dst, protocol, payload }));
    return true;
  }

  private sendFrame(dst: MacAddress, etherType: number, payload: Uint8Array): void {
    const frame = buildEthernet(dst, this.mac, etherType, payload);
    if (!this.endpoint.send(frame)) return;
    this.stats.framesOut++;
    this.stats.bytesOut += frame.length;
  }

  private allocatePort(protocol: 'tcp' | 'udp'): number | undefined {
    const used = this.usedPorts[protocol];
    for (let tries = 0; tries <= 65535 - FIRST_GATEWAY_PORT; tries++) {
      const port = this.nextPort;
      this.nextPort = port === 65535 ? FIRST_GATEWAY_PORT : port + 1;
      if (!used.has(port) && !this.reservedPorts.has(port)) {
        used.add(port);
        return port;
      }
    }
    return undefined;
  }
}
