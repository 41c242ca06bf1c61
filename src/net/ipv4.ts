// IPv4 addresses (branded dotted-quad text) and just enough of the IPv4 header (RFC 791 3.1)
// to carry ICMP between host code and guests: no options on send, no fragments.

export type Ipv4Address = string & { readonly __brand: 'Ipv4Address' };

export class Ipv4Error extends Error {
  readonly kind = 'ipv4';
}

export const IPV4_HEADER_BYTES = 20;

export const enum IpProtocol {
  ICMP = 1,
  TCP = 6,
  UDP = 17,
}

export interface Ipv4Packet {
  src: Ipv4Address;
  dst: Ipv4Address;
  protocol: number;
  ttl: number;
  identification: number;
  /** A view of the payload (trimmed to the header's total length), not a copy. */
  payload: Uint8Array;
}

/** Parses "10.0.2.15" (four decimal bytes, no leading zeros) into the canonical form. */
export function ipv4Address(text: string): Ipv4Address {
  const parts = text.trim().split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
    throw new Ipv4Error(`"${text}" is not an IPv4 address; write four decimal bytes such as 10.0.2.15`);
  }
  return parts.join('.') as Ipv4Address;
}

export function ipv4FromBytes(bytes: Uint8Array, offset = 0): Ipv4Address {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}` as Ipv4Address;
}

export function ipv4ToBytes(address: Ipv4Address): Uint8Array {
  return Uint8Array.from(address.split('.'), Number);
}

/** RFC 1071: the 16-bit ones' complement of the ones' complement sum. Zero means "checks out" over a checksummed block. */
export function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length & 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The packet in `bytes`, or undefined when it is not a well-formed, unfragmented IPv4 packet
 * with a correct header checksum (guests may send anything).
 */
export function parseIpv4(bytes: Uint8Array): Ipv4Packet | undefined {
  if (bytes.length < IPV4_HEADER_BYTES) return undefined;
  const version = bytes[0]! >>> 4;
  const headerBytes = (bytes[0]! & 0x0f) * 4;
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  if (version !== 4 || headerBytes < IPV4_HEADER_BYTES || totalLength < headerBytes || totalLength > bytes.length) return undefined;
  if (internetChecksum(bytes.subarray(0, headerBytes)) !== 0) return undefined;
  // RFC 791 3.1: MF set or a non-zero fragment offset means a fragment; not reassembled here.
  const fragment = ((bytes[6]! << 8) | bytes[7]!) & 0x3fff;
  if (fragment !== 0) return undefined;
  return {
    src: ipv4FromBytes(bytes, 12),
    dst: ipv4FromBytes(bytes, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    identification: (bytes[4]! << 8) | bytes[5]!,
    payload: bytes.subarray(headerBytes, totalLength),
  };
}

export interface Ipv4BuildOptions {
  src: Ipv4Address;
  dst: Ipv4Address;
  protocol: number;
  payload: Uint8Array;
  ttl?: number;
  identification?: number;
}

/** A 20-byte header (DF set, no options) followed by the payload. */
export function buildIpv4(options: Ipv4BuildOptions): Uint8Array {
  const { src, dst, protocol, payload, ttl = 64, identification = 0 } = options;
  const total = IPV4_HEADER_BYTES + payload.length;
  if (total > 0xffff) throw new Ipv4Error(`IPv4 payload of ${payload.length} bytes is too large; the limit is ${0xffff - IPV4_HEADER_BYTES}`);
  const packet = new Uint8Array(total);
  packet[0] = 0x45;
  packet[2] = total >>> 8;
  packet[3] = total & 0xff;
  packet[4] = (identification >>> 8) & 0xff;
  packet[5] = identification & 0xff;
  packet[6] = 0x40; // DF
  packet[8] = ttl & 0xff;
  packet[9] = protocol & 0xff;
  packet.set(ipv4ToBytes(src), 12);
  packet.set(ipv4ToBytes(dst), 16);
  const checksum = internetChecksum(packet.subarray(0, IPV4_HEADER_BYTES));
  packet[10] = checksum >>> 8;
  packet[11] = checksum & 0xff;
  packet.set(payload, IPV4_HEADER_BYTES);
  return packet;
}

/**
 * The TCP/UDP checksum (RFC 9293 3.1, RFC 768) of `segment` with its checksum field included:
 * over the pseudo-header (source, destination, zero, protocol, length) and the segment. Zero
 * over a received segment means it checks out; over one with a zeroed field it is the value to store.
 */
export function transportChecksum(src: Ipv4Address, dst: Ipv4Address, protocol: number, segment: Uint8Array): number {
  const pseudo = new Uint8Array(12 + segment.length);
  pseudo.set(ipv4ToBytes(src), 0);
  pseudo.set(ipv4ToBytes(dst), 4);
  pseudo[9] = protocol;
  pseudo[10] = (segment.length >>> 8) & 0xff;
  pseudo[11] = segment.length & 0xff;
  pseudo.set(segment, 12);
  return internetChecksum(pseudo);
}

/** The address as a 32-bit unsigned number, for range checks. */
export function ipv4ToNumber(address: Ipv4Address): number {
  const b = ipv4ToBytes(address);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
