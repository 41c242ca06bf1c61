// ICMP echo request and reply (RFC 792), the messages behind ping.

import { internetChecksum } from './ipv4.js';

export const ICMP_ECHO_HEADER_BYTES = 8;

export const enum IcmpType {
  ECHO_REPLY = 0,
  ECHO_REQUEST = 8,
}

export interface IcmpEcho {
  type: IcmpType.ECHO_REQUEST | IcmpType.ECHO_REPLY;
  identifier: number;
  sequence: number;
  /** A view of the data, not a copy. */
  data: Uint8Array;
}

/** The echo message in an IPv4 payload, or undefined unless it is an echo with code 0 and a good checksum. */
export function parseIcmpEcho(bytes: Uint8Array): IcmpEcho | undefined {
  if (bytes.length < ICMP_ECHO_HEADER_BYTES) return undefined;
  const type = bytes[0]!;
  if ((type !== IcmpType.ECHO_REQUEST && type !== IcmpType.ECHO_REPLY) || bytes[1] !== 0) return undefined;
  if (internetChecksum(bytes) !== 0) return undefined;
  return {
    type,
    identifier: (bytes[4]! << 8) | bytes[5]!,
    sequence: (bytes[6]! << 8) | bytes[7]!,
    data: bytes.subarray(ICMP_ECHO_HEADER_BYTES),
  };
}

export function buildIcmpEcho(echo: IcmpEcho): Uint8Array {
  const bytes = new Uint8Array(ICMP_ECHO_HEADER_BYTES + echo.data.length);
  bytes[0] = echo.type;
  bytes[4] = (echo.identifier >>> 8) & 0xff;
  bytes[5] = echo.identifier & 0xff;
  bytes[6] = (echo.sequence >>> 8) & 0xff;
  bytes[7] = echo.sequence & 0xff;
  bytes.set(echo.data, ICMP_ECHO_HEADER_BYTES);
  const checksum = internetChecksum(bytes);
  bytes[2] = checksum >>> 8;
  bytes[3] = checksum & 0xff;
  return bytes;
}

export const ICMP_DEST_UNREACHABLE = 3;
/** RFC 792 codes for destination unreachable (and RFC 1812 5.2.7.1's 13). */
export const enum UnreachableCode {
  PORT = 3,
  ADMIN_PROHIBITED = 13,
}

/** RFC 792 destination unreachable: the offending packet's IP header and its first 8 data bytes follow. */
export function buildIcmpUnreachable(code: number, original: Uint8Array): Uint8Array {
  const headerBytes = Math.min(original.length, ((original[0] ?? 0x45) & 0x0f) * 4);
  const quoted = original.subarray(0, Math.min(original.length, headerBytes + 8));
  const bytes = new Uint8Array(ICMP_ECHO_HEADER_BYTES + quoted.length);
  bytes[0] = ICMP_DEST_UNREACHABLE;
  bytes[1] = code;
  bytes.set(quoted, ICMP_ECHO_HEADER_BYTES);
  const checksum = internetChecksum(bytes);
  bytes[2] = checksum >>> 8;
  bytes[3] = checksum & 0xff;
  return bytes;
}
