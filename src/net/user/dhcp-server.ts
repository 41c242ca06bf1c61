// DHCP server for the user network (RFC 2131, options RFC 2132): leases one address per client
// MAC from a small pool, and tells the client its mask, router, DNS server and lease time.

import { ipv4FromBytes, ipv4ToBytes, ipv4ToNumber } from '../ipv4.js';
import type { Ipv4Address } from '../ipv4.js';
import { BROADCAST_MAC, macFromBytes } from '../mac-address.js';
import type { MacAddress } from '../mac-address.js';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

/** RFC 2132 9.6 message types. */
export const enum DhcpMessageType {
  DISCOVER = 1,
  OFFER = 2,
  REQUEST = 3,
  DECLINE = 4,
  ACK = 5,
  NAK = 6,
  RELEASE = 7,
  INFORM = 8,
}

const enum Option {
  PAD = 0,
  SUBNET_MASK = 1,
  ROUTER = 3,
  DNS = 6,
  BROADCAST = 28,
  REQUESTED_IP = 50,
  LEASE_TIME = 51,
  MESSAGE_TYPE = 53,
  SERVER_ID = 54,
  END = 255,
}

/** RFC 2131 2: op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file. */
const FIXED_BYTES = 236;
const MAGIC_COOKIE = [99, 130, 83, 99];
const BROADCAST_FLAG = 0x8000;

export interface DhcpServerOptions {
  server: Ipv4Address;
  dns: Ipv4Address;
  netmask: Ipv4Address;
  broadcast: Ipv4Address;
  /** First and last address handed out. */
  poolFirst: Ipv4Address;
  poolLast: Ipv4Address;
  leaseSeconds?: number;
}

export interface DhcpReply {
  dstMac: MacAddress;
  dstIp: Ipv4Address;
  payload: Uint8Array;
  type: DhcpMessageType;
}

interface DhcpRequest {
  xid: Uint8Array;
  flags: number;
  ciaddr: Ipv4Address;
  chaddr: Uint8Array;
  mac: MacAddress;
  type: number;
  requested?: Ipv4Address;
  serverId?: Ipv4Address;
}

export class DhcpServer {
  private readonly leases = new Map<MacAddress, Ipv4Address>();
  private readonly leaseSeconds: number;

  constructor(private readonly options: DhcpServerOptions) {
    this.leaseSeconds = options.leaseSeconds ?? 86400;
  }

  /** The address leased (or offered) to `mac`, if any. */
  leaseOf(mac: MacAddress): Ipv4Address | undefined {
    return this.leases.get(mac);
  }

  /** The most recently leased address, for connections into the guest when no address is given. */
  get lastLease(): Ipv4Address | undefined {
    return [...this.leases.values()].at(-1);
  }

  /** Handles one datagram sent to port 67; undefined when it needs no answer or is malformed. */
  handle(payload: Uint8Array): DhcpReply | undefined {
    const request = parseRequest(payload);
    if (request === undefined) return undefined;
    switch (request.type) {
      case DhcpMessageType.DISCOVER: {
        const ip = this.allocate(request.mac);
        return ip === undefined ? undefined : this.reply(request, DhcpMessageType.OFFER, ip);
      }
      case DhcpMessageType.REQUEST: {
        // RFC 2131 4.3.2: a REQUEST naming another server is that server's business.
        if (request.serverId !== undefined && request.serverId !== this.options.server) {
          return undefined;
        }
        const wanted = request.requested ?? (request.ciaddr !== '0.0.0.0' ? request.ciaddr : undefined);
        const ip = this.allocate(request.mac);
        if (ip === undefined) return undefined;
        if (wanted !== undefined && wanted !== ip) return this.reply(request, DhcpMessageType.NAK, '0.0.0.0' as Ipv4Address);
        return this.reply(request, DhcpMessageType.ACK, ip);
      }
      case DhcpMessageType.INFORM:
        return this.reply(request, DhcpMessageType.ACK, '0.0.0.0' as Ipv4Address);
      case DhcpMessageType.RELEASE:
        this.leases.delete(request.mac);
        return undefined;
      default:
        return undefined;
    }
  }

  private allocate(mac: MacAddress): Ipv4Address | undefined {
    const known = this.leases.get(mac);
    if (known !== undefined) return known;
    const used = new Set(this.leases.values());
    const first = ipv4ToNumber(this.options.poolFirst);
    const last = ipv4ToNumber(this.options.poolLast);
    for (let n = first; n <= last; n++) {
      const ip = `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}` as Ipv4Address;
      if (!used.has(ip)) {
        this.leases.set(mac, ip);
        return ip;
      }
    }
    return undefined; // pool exhausted: the client hears nothing and retries
  }

  private reply(request: DhcpRequest, type: DhcpMessageType, yiaddr: Ipv4Address): DhcpReply {
    const { server, dns, netmask, broadcast } = this.options;
    const options: number[] = [Option.MESSAGE_TYPE, 1, type, Option.SERVER_ID, 4, ...ipv4ToBytes(server)];
    if (type !== DhcpMessageType.NAK) {
      options.push(Option.SUBNET_MASK, 4, ...ipv4ToBytes(netmask), Option.ROUTER, 4, ...ipv4ToBytes(server), Option.DNS, 4, ...ipv4ToBytes(dns), Option.BROADCAST, 4, ...ipv4ToBytes(broadcast));
      if (type !== DhcpMessageType.ACK || yiaddr !== '0.0.0.0') options.push(Option.LEASE_TIME, 4, ...u32(this.leaseSeconds));
    }
    options.push(Option.END);
    const bytes = new Uint8Array(FIXED_BYTES + MAGIC_COOKIE.length + options.length);
    bytes[0] = 2; // BOOTREPLY
    bytes[1] = 1; // Ethernet
    bytes[2] = 6;
    bytes.set(request.xid, 4);
    bytes[10] = (request.flags >>> 8) & 0xff;
    bytes[11] = request.flags & 0xff;
    if (type === DhcpMessageType.ACK && yiaddr === '0.0.0.0') bytes.set(ipv4ToBytes(request.ciaddr), 12);
    bytes.set(ipv4ToBytes(yiaddr), 16);
    bytes.set(ipv4ToBytes(server), 20);
    bytes.set(request.chaddr, 28);
    bytes.set(MAGIC_COOKIE, FIXED_BYTES);
    bytes.set(options, FIXED_BYTES + MAGIC_COOKIE.length);
    // RFC 2131 4.1: broadcast when the client asks to or has no address yet to receive on; NAKs always broadcast.
    const toBroadcast = type === DhcpMessageType.NAK || (request.flags & BROADCAST_FLAG) !== 0;
    const dstIp = toBroadcast ? ('255.255.255.255' as Ipv4Address) : request.ciaddr !== '0.0.0.0' ? request.ciaddr : yiaddr;
    return { dstMac: toBroadcast ? BROADCAST_MAC : request.mac, dstIp, payload: bytes, type };
  }
}

function parseRequest(bytes: Uint8Array): DhcpRequest | undefined {
  if (bytes.length < FIXED_BYTES + MAGIC_COOKIE.length + 1) return undefined;
  if (bytes[0] !== 1 || bytes[1] !== 1 || bytes[2] !== 6) return undefined; // BOOTREQUEST over Ethernet
  if (!MAGIC_COOKIE.every((b, i) => bytes[FIXED_BYTES + i] === b)) return undefined;
  const chaddr = bytes.slice(28, 34);
  const request: DhcpRequest = { xid: bytes.slice(4, 8), flags: (bytes[10]! << 8) | bytes[11]!, ciaddr: ipv4FromBytes(bytes, 12), chaddr, mac: macFromBytes(chaddr), type: 0 };
  if ((chaddr[0]! & 1) !== 0) return undefined; // a group address is no client
  for (let i = FIXED_BYTES + MAGIC_COOKIE.length; i < bytes.length; ) {
    const code = bytes[i]!;
    if (code === Option.END) break;
    if (code === Option.PAD) {
      i++;
      continue;
    }
    const length = bytes[i + 1];
    if (length === undefined || i + 2 + length > bytes.length) return undefined;
    const value = bytes.subarray(i + 2, i + 2 + length);
    if (code === Option.MESSAGE_TYPE && length === 1) request.type = value[0]!;
    else if (code === Option.REQUESTED_IP && length === 4) request.requested = ipv4FromBytes(value);
    else if (code === Option.SERVER_ID && length === 4) request.serverId = ipv4FromBytes(value);
    i += 2 + length;
  }
  return request.type === 0 ? undefined : request;
}

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}
