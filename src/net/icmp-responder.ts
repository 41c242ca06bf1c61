// A host on the switch that answers ARP and ping for one IPv4/MAC address, and pings guests:
// what tests and boot checks need to see a guest's network work, with no host network stack.

import { ArpOperation, buildArp, parseArp } from './arp.js';
import { ArpCache } from './arp-cache.js';
import { EtherType, buildEthernet, parseEthernet } from './ethernet.js';
import { HostEndpoint } from './host-endpoint.js';
import type { HostEndpointOptions } from './host-endpoint.js';
import { IcmpType, buildIcmpEcho, parseIcmpEcho } from './icmp.js';
import { IpProtocol, buildIpv4, parseIpv4 } from './ipv4.js';
import type { Ipv4Address } from './ipv4.js';
import { BROADCAST_MAC, isGroupMac } from './mac-address.js';
import type { MacAddress } from './mac-address.js';
import type { VirtualSwitch } from './virtual-switch.js';

export class IcmpResponderError extends Error {
  readonly kind = 'icmp-responder';
}

export interface IcmpResponderOptions extends HostEndpointOptions {
  mac: MacAddress;
  ip: Ipv4Address;
  /** Addresses learned from ARP kept at most; the least recently used go first (default 256). */
  arpCacheCapacity?: number;
}

export interface EchoReply {
  from: Ipv4Address;
  fromMac: MacAddress;
  identifier: number;
  sequence: number;
  data: Uint8Array;
}

export interface PingOptions {
  identifier?: number;
  sequence?: number;
  data?: Uint8Array;
  /** Rejects the promise with the signal's reason when it aborts (e.g. `AbortSignal.timeout(ms)`). */
  signal?: AbortSignal;
}

export interface IcmpResponderCounters {
  arpRepliesSent: number;
  echoRepliesSent: number;
  echoRequestsSent: number;
  echoRepliesReceived: number;
  /** Frames that were not for this host or not understood. */
  ignored: number;
  /** ARP cache entries displaced by newer ones because the cache was full. */
  arpCacheEvictions: number;
}

interface PendingPing {
  target: Ipv4Address;
  identifier: number;
  sequence: number;
  data: Uint8Array;
  sent: boolean;
  resolve(reply: EchoReply): void;
}

export class IcmpResponder {
  readonly endpoint: HostEndpoint;
  readonly mac: MacAddress;
  readonly ip: Ipv4Address;
  private readonly arp: ArpCache;
  private readonly pings: PendingPing[] = [];
  private readonly stats: Omit<IcmpResponderCounters, 'arpCacheEvictions'> = { arpRepliesSent: 0, echoRepliesSent: 0, echoRequestsSent: 0, echoRepliesReceived: 0, ignored: 0 };
  private nextSequence = 1;

  constructor(sw: VirtualSwitch, options: IcmpResponderOptions) {
    if (isGroupMac(options.mac)) throw new IcmpResponderError(`responder MAC ${options.mac} is a group address; give a unicast one`);
    this.mac = options.mac;
    this.ip = options.ip;
    this.arp = new ArpCache(options.arpCacheCapacity);
    this.endpoint = new HostEndpoint(sw, { ...withoutAddresses(options), name: options.name ?? `icmp-responder ${options.ip}` });
    this.endpoint.onFrame((frame) => this.handle(frame));
  }

  /** Handles every queued frame (answers, replies, ARP); the board calls it between run slices. */
  poll(): number {
    return this.endpoint.poll();
  }

  get counters(): IcmpResponderCounters {
    return { ...this.stats, arpCacheEvictions: this.arp.evictions };
  }

  /** Addresses learned from ARP. */
  get arpCache(): ArpCache {
    return this.arp;
  }

  /**
   * Sends an echo request to `target` (after an ARP request when its MAC is not known yet).
   * Resolves with the matching reply, which `poll()` finds; never times out by itself.
   */
  ping(target: Ipv4Address, options: PingOptions = {}): Promise<EchoReply> {
    const { identifier = 0x7669, sequence = this.nextSequence++ & 0xffff, data = defaultPingData(), signal } = options;
    return new Promise<EchoReply>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const ping: PendingPing = { target, identifier, sequence, data: data.slice(), sent: false, resolve };
      const onAbort = () => {
        this.forget(ping);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ping.resolve = (reply) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(reply);
      };
      this.pings.push(ping);
      if (this.arp.has(target)) this.sendEcho(ping);
      else this.sendArpRequest(target);
    });
  }

  /** Broadcasts an ARP request for `target`. */
  sendArpRequest(target: Ipv4Address): boolean {
    const arp = buildArp({ operation: ArpOperation.REQUEST, senderMac: this.mac, senderIp: this.ip, targetMac: '00:00:00:00:00:00' as MacAddress, targetIp: target });
    return this.endpoint.send(buildEthernet(BROADCAST_MAC, this.mac, EtherType.ARP, arp));
  }

  private handle(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (eth === undefined || eth.vlan !== undefined || (eth.dst !== this.mac && !isGroupMac(eth.dst))) {
      this.stats.ignored++;
      return;
    }
    if (eth.etherType === EtherType.ARP) this.handleArp(eth.payload);
    else if (eth.etherType === EtherType.IPV4 && eth.dst === this.mac) this.handleIpv4(eth.src, eth.payload);
    else this.stats.ignored++;
  }

  private handleArp(payload: Uint8Array): void {
    const arp = parseArp(payload);
    if (arp === undefined || isGroupMac(arp.senderMac)) {
      this.stats.ignored++;
      return;
    }
    // RFC 826 "Packet Reception": update a known sender; add it when the packet is for us.
    const forUs = arp.targetIp === this.ip;
    if (forUs || this.arp.has(arp.senderIp)) this.arp.set(arp.senderIp, arp.senderMac);
    if (forUs && arp.operation === ArpOperation.REQUEST) {
      const reply = buildArp({ operation: ArpOperation.REPLY, senderMac: this.mac, senderIp: this.ip, targetMac: arp.senderMac, targetIp: arp.senderIp });
      if (this.endpoint.send(buildEthernet(arp.senderMac, this.mac, EtherType.ARP, reply))) this.stats.arpRepliesSent++;
    } else if (!forUs) {
      this.stats.ignored++;
    }
    for (const ping of this.pings) if (!ping.sent && this.arp.has(ping.target)) this.sendEcho(ping);
  }

  private handleIpv4(srcMac: MacAddress, payload: Uint8Array): void {
    const ip = parseIpv4(payload);
    const echo = ip !== undefined && ip.protocol === IpProtocol.ICMP && ip.dst === this.ip ? parseIcmpEcho(ip.payload) : undefined;
    if (ip === undefined || echo === undefined) {
      this.stats.ignored++;
      return;
    }
    if (echo.type === IcmpType.ECHO_REQUEST) {
      // RFC 792: the reply swaps the addresses and carries the same identifier, sequence and data.
      const reply = buildIcmpEcho({ type: IcmpType.ECHO_REPLY, identifier: echo.identifier, sequence: echo.sequence, data: echo.data });
      const packet = buildIpv4({ src: this.ip, dst: ip.src, protocol: IpProtocol.ICMP, payload: reply, identification: ip.identification });
      if (this.endpoint.send(buildEthernet(srcMac, this.mac, EtherType.IPV4, packet))) this.stats.echoRepliesSent++;
      return;
    }
    const index = this.pings.findIndex((p) => p.sent && p.target === ip.src && p.identifier === echo.identifier && p.sequence === echo.sequence);
    if (index < 0) {
      this.stats.ignored++;
      return;
    }
    const [ping] = this.pings.splice(index, 1);
    this.stats.echoRepliesReceived++;
    ping!.resolve({ from: ip.src, fromMac: srcMac, identifier: echo.identifier, sequence: echo.sequence, data: echo.data.slice() });
  }

  private sendEcho(ping: PendingPing): void {
    const mac = this.arp.get(ping.target);
    if (mac === undefined) return;
    ping.sent = true;
    const request = buildIcmpEcho({ type: IcmpType.ECHO_REQUEST, identifier: ping.identifier, sequence: ping.sequence, data: ping.data });
    const packet = buildIpv4({ src: this.ip, dst: ping.target, protocol: IpProtocol.ICMP, payload: request, identification: ping.sequence });
    if (this.endpoint.send(buildEthernet(mac, this.mac, EtherType.IPV4, packet))) this.stats.echoRequestsSent++;
  }

  private forget(ping: PendingPing): void {
    const index = this.pings.indexOf(ping);
    if (index >= 0) this.pings.splice(index, 1);
  }
}

/** 56 bytes, the size ping sends by default. */
function defaultPingData(): Uint8Array {
  return Uint8Array.from({ length: 56 }, (_, i) => i);
}

function withoutAddresses(options: IcmpResponderOptions): HostEndpointOptions {
  const { mac: _mac, ip: _ip, arpCacheCapacity: _capacity, ...rest } = options;
  return rest;
}
