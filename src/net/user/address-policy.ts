// Where a guest's connections may go. By default out through host sockets as the host's own
// connections, except to addresses that would reach the host itself or are not unicast;
// guestfwd rules open single host services at the gateway's address.

import { ipv4ToNumber } from '../ipv4.js';
import type { Ipv4Address } from '../ipv4.js';
import type { ForwardProtocol, GuestForward } from './user-network-options.js';

/** Blocked ranges as [network, prefix length]. */
const BLOCKED: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network" (RFC 1122 3.2.1.3); 0.0.0.0 reaches the host's loopback on Linux
  ['127.0.0.0', 8], // the host's loopback
  ['169.254.0.0', 16], // link-local (RFC 3927), including cloud metadata services
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the limited broadcast 255.255.255.255
];

const BLOCKED_RANGES = BLOCKED.map(([net, bits]) => ({ base: ipv4ToNumber(net as Ipv4Address), mask: bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0 }));

export type Destination = { allowed: true; host: string; port: number } | { allowed: false; why: string };

export class AddressPolicy {
  private readonly guestForwards: ReadonlyMap<string, GuestForward>;

  /**
   * `subnet` is the guest network (its addresses other than the gateway's reach nothing);
   * `dns`, when given, takes TCP to its address's port 53 (DNS answers too large for UDP).
   */
  constructor(
    private readonly gateway: Ipv4Address,
    private readonly subnet: { base: Ipv4Address; prefix: number },
    guestForwards: readonly GuestForward[],
    private readonly dns?: { address: Ipv4Address; server: { address: string; port: number } },
  ) {
    this.guestForwards = new Map(guestForwards.map((f) => [`${f.protocol}:${f.guestPort}`, f]));
  }

  /** Where a guest's connection or datagram to `address:port` goes on the host, or why it may not. */
  resolve(protocol: ForwardProtocol, address: Ipv4Address, port: number): Destination {
    if (address === this.gateway) {
      const rule = this.guestForwards.get(`${protocol}:${port}`);
      return rule ? { allowed: true, host: rule.hostAddress, port: rule.hostPort } : { allowed: false, why: `no guestfwd rule for ${protocol} port ${port} of the gateway` };
    }
    if (this.dns !== undefined && address === this.dns.address && protocol === 'tcp' && port === 53) return { allowed: true, host: this.dns.server.address, port: this.dns.server.port };
    const n = ipv4ToNumber(address);
    const subnetMask = (0xffffffff << (32 - this.subnet.prefix)) >>> 0;
    if (((n & subnetMask) >>> 0) === ipv4ToNumber(this.subnet.base)) return { allowed: false, why: `${address} is on the guest network and is no host` };
    if (BLOCKED_RANGES.some((r) => ((n & r.mask) >>> 0) === r.base)) return { allowed: false, why: `${address} is loopback, unspecified, link-local, multicast or broadcast` };
    if (port === 0) return { allowed: false, why: 'port 0' };
    return { allowed: true, host: address, port };
  }
}
