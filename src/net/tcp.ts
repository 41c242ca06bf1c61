// TCP segments (RFC 9293 3.1): the header, the options a connection setup uses (MSS, window
// scale), and the checksum over the IPv4 pseudo-header.

import { IpProtocol, transportChecksum } from './ipv4.js';
import type { Ipv4Address } from './ipv4.js';

export const TCP_HEADER_BYTES = 20;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
} as const;

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The raw 16-bit window field (before any scaling). */
  window: number;
  /** Options (only on SYN segments in practice). */
  mss?: number;
  windowScale?: number;
  /** A view of the data, not a copy. */
  payload: Uint8Array;
}

/** The segment in an IPv4 payload, or undefined when it is malformed or its checksum fails. */
export function parseTcp(bytes: Uint8Array, src: Ipv4Address, dst: Ipv4Address): TcpSegment | undefined {
  if (bytes.length < TCP_HEADER_BYTES) return undefined;
  const headerBytes = (bytes[12]! >>> 4) * 4;
  if (headerBytes < TCP_HEADER_BYTES || headerBytes > bytes.length) return undefined;
  if (transportChecksum(src, dst, IpProtocol.TCP, bytes) !== 0) return undefined;
  const segment: TcpSegment = {
    srcPort: (bytes[0]! << 8) | bytes[1]!,
    dstPort: (bytes[2]! << 8) | bytes[3]!,
    seq: readU32(bytes, 4),
    ack: readU32(bytes, 8),
    flags: bytes[13]! & 0x3f,
    window: (bytes[14]! << 8) | bytes[15]!,
    payload: bytes.subarray(headerBytes),
  };
  // RFC 9293 3.2: kind 0 ends the list, kind 1 pads, every other option has a length byte.
  for (let i = TCP_HEADER_BYTES; i < headerBytes; ) {
    const kind = bytes[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    const length = bytes[i + 1];
    if (length === undefined || length < 2 || i + length > headerBytes) return undefined;
    if (kind === 2 && length === 4) segment.mss = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    else if (kind === 3 && length === 3) segment.windowScale = Math.min(bytes[i + 2]!, 14); // RFC 7323 2.3: at most 14
    i += length;
  }
  return segment;
}

export function buildTcp(segment: TcpSegment, src: Ipv4Address, dst: Ipv4Address): Uint8Array {
  const options: number[] = [];
  if (segment.mss !== undefined) options.push(2, 4, segment.mss >>> 8, segment.mss & 0xff);
  if (segment.windowScale !== undefined) options.push(1, 3, 3, segment.windowScale);
  const headerBytes = TCP_HEADER_BYTES + options.length;
  const bytes = new Uint8Array(headerBytes + segment.payload.length);
  bytes[0] = segment.srcPort >>> 8;
  bytes[1] = segment.srcPort & 0xff;
  bytes[2] = segment.dstPort >>> 8;
  bytes[3] = segment.dstPort & 0xff;
  writeU32(bytes, 4, segment.seq);
  writeU32(bytes, 8, segment.ack);
  bytes[12] = (headerBytes / 4) << 4;
  bytes[13] = segment.flags;
  bytes[14] = (segment.window >>> 8) & 0xff;
  bytes[15] = segment.window & 0xff;
  bytes.set(options, TCP_HEADER_BYTES);
  bytes.set(segment.payload, headerBytes);
  const checksum = transportChecksum(src, dst, IpProtocol.TCP, bytes);
  bytes[16] = checksum >>> 8;
  bytes[17] = checksum & 0xff;
  return bytes;
}

/** Sequence-space arithmetic modulo 2^32 (RFC 9293 3.4). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** a - b as a signed distance in sequence space. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
