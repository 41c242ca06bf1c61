// A guest on a VirtualSwitch built from frames by hand, for driving the user network in unit
// tests: send ARP, UDP, ICMP and TCP segments, and wait for what comes back.

import { ArpOperation, buildArp } from '../../src/net/arp.js';
import { EtherType, buildEthernet, parseEthernet } from '../../src/net/ethernet.js';
import { HostEndpoint } from '../../src/net/host-endpoint.js';
import { IpProtocol, buildIpv4, parseIpv4 } from '../../src/net/ipv4.js';
import type { Ipv4Address, Ipv4Packet } from '../../src/net/ipv4.js';
import { BROADCAST_MAC } from '../../src/net/mac-address.js';
import type { MacAddress } from '../../src/net/mac-address.js';
import { buildTcp, parseTcp } from '../../src/net/tcp.js';
import type { TcpSegment } from '../../src/net/tcp.js';
import { buildUdp, parseUdp } from '../../src/net/udp.js';
import type { UdpDatagram } from '../../src/net/udp.js';
import type { VirtualSwitch } from '../../src/net/virtual-switch.js';

export interface Received {
  dstMac: MacAddress;
  etherType: number;
  payload: Uint8Array;
  ip?: Ipv4Packet;
}

export class FakeGuestStack {
  readonly endpoint: HostEndpoint;
  private readonly inbox: Received[] = [];
  private readonly waiters: Array<() => void> = [];
  /** Frames from the gateway to drop before they are seen (simulates a full queue). */
  dropNext: ((r: Received) => boolean) | null = null;

  constructor(sw: VirtualSwitch, readonly mac: MacAddress, public ip: Ipv4Address, readonly gatewayMac: MacAddress) {
    this.endpoint = new HostEndpoint(sw, { name: 'fake-guest', delivery: 'microtask', queueCapacity: 4096 });
    this.endpoint.onFrame((frame) => {
      const eth = parseEthernet(frame)!;
      const r: Received = { dstMac: eth.dst, etherType: eth.etherType, payload: eth.payload.slice() };
      if (eth.etherType === EtherType.IPV4) {
        const ip = parseIpv4(r.payload);
        if (ip !== undefined) r.ip = ip;
      }
      if (this.dropNext?.(r)) {
        this.dropNext = null;
        return;
      }
      this.inbox.push(r);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  sendRaw(frame: Uint8Array): void {
    this.endpoint.send(frame);
  }

  sendIp(dst: Ipv4Address, protocol: number, payload: Uint8Array, dstMac: MacAddress = this.gatewayMac, src: Ipv4Address = this.ip): void {
    this.endpoint.send(buildEthernet(dstMac, this.mac, EtherType.IPV4, buildIpv4({ src, dst, protocol, payload })));
  }

  sendUdp(dst: Ipv4Address, datagram: UdpDatagram, dstMac?: MacAddress, src: Ipv4Address = this.ip): void {
    this.sendIp(dst, IpProtocol.UDP, buildUdp(datagram, src, dst), dstMac, src);
  }

  sendTcp(dst: Ipv4Address, segment: Partial<TcpSegment> & Pick<TcpSegment, 'srcPort' | 'dstPort' | 'flags'>): void {
    const full: TcpSegment = { seq: 0, ack: 0, window: 65535, payload: new Uint8Array(0), ...segment };
    this.sendIp(dst, IpProtocol.TCP, buildTcp(full, this.ip, dst));
  }

  sendArpRequest(target: Ipv4Address): void {
    const arp = buildArp({ operation: ArpOperation.REQUEST, senderMac: this.mac, senderIp: this.ip, targetMac: '00:00:00:00:00:00' as MacAddress, targetIp: target });
    this.endpoint.send(buildEthernet(BROADCAST_MAC, this.mac, EtherType.ARP, arp));
  }

  /** Waits for (and removes) the first received frame `match` accepts. */
  async next<T>(match: (r: Received) => T | undefined, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((r) => match(r) !== undefined);
      if (index >= 0) return match(this.inbox.splice(index, 1)[0]!)!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame from the gateway');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  nextTcp(port: number, timeoutMs?: number): Promise<TcpSegment & { src: Ipv4Address }> {
    return this.next((r) => {
      if (r.ip?.protocol !== IpProtocol.TCP) return undefined;
      const seg = parseTcp(r.ip.payload, r.ip.src, r.ip.dst);
      return seg !== undefined && seg.dstPort === port ? { ...seg, src: r.ip.src } : undefined;
    }, timeoutMs);
  }

  nextUdp(port: number, timeoutMs?: number): Promise<UdpDatagram & { src: Ipv4Address; dst: Ipv4Address; dstMac: MacAddress }> {
    return this.next((r) => {
      if (r.ip?.protocol !== IpProtocol.UDP) return undefined;
      const udp = parseUdp(r.ip.payload, r.ip.src, r.ip.dst);
      return udp !== undefined && udp.dstPort === port ? { ...udp, src: r.ip.src, dst: r.ip.dst, dstMac: r.dstMac } : undefined;
    }, timeoutMs);
  }

  /** Frames received and not yet taken. */
  get pending(): readonly Received[] {
    return this.inbox;
  }

  close(): void {
    this.endpoint.close();
  }
}
