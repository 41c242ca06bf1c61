// UDP datagrams (RFC 768): an 8-byte header with ports, length and a checksum over the
// IPv4 pseudo-header.

import { IpProtocol, transportChecksum } from './ipv4.js';
import type { Ipv4Address } from './ipv4.js';

export const UDP_HEADER_BYTES = 8;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  /** A view of the data, not a copy. */
  payload: Uint8Array;
}

/**
 * The datagram in an IPv4 payload, or undefined when it is short, its length field disagrees,
 * or its checksum (when present: zero means none was computed) does not check out.
 */
export function parseUdp(bytes: Uint8Array, src: Ipv4Address, dst: Ipv4Address): UdpDatagram | undefined {
  if (bytes.length < UDP_HEADER_BYTES) return undefined;
  const length = (bytes[4]! << 8) | bytes[5]!;
  if (length < UDP_HEADER_BYTES || length > bytes.length) return undefined;
  const datagram = bytes.subarray(0, length);
  const checksum = (bytes[6]! << 8) | bytes[7]!;
  if (checksum !== 0 && transportChecksum(src, dst, IpProtocol.UDP, datagram) !== 0) return undefined;
  return { srcPort: (bytes[0]! << 8) | bytes[1]!, dstPort: (bytes[2]! << 8) | bytes[3]!, payload: datagram.subarray(UDP_HEADER_BYTES) };
}

export function buildUdp(datagram: UdpDatagram, src: Ipv4Address, dst: Ipv4Address): Uint8Array {
  const length = UDP_HEADER_BYTES + datagram.payload.length;
  const bytes = new Uint8Array(length);
  bytes[0] = datagram.srcPort >>> 8;
  bytes[1] = datagram.srcPort & 0xff;
  bytes[2] = datagram.dstPort >>> 8;
  bytes[3] = datagram.dstPort & 0xff;
  bytes[4] = length >>> 8;
  bytes[5] = length & 0xff;
  bytes.set(datagram.payload, UDP_HEADER_BYTES);
  // RFC 768: a computed zero is sent as all ones, since zero means "no checksum".
  const checksum = transportChecksum(src, dst, IpProtocol.UDP, bytes) || 0xffff;
  bytes[6] = checksum >>> 8;
  bytes[7] = checksum & 0xff;
  return bytes;
}
