// ARP for IPv4 over Ethernet (RFC 826): the 28-byte request/reply that maps an IPv4 address
// to a MAC address.

import { macFromBytes, macToBytes } from './mac-address.js';
import type { MacAddress } from './mac-address.js';
import { ipv4FromBytes, ipv4ToBytes } from './ipv4.js';
import type { Ipv4Address } from './ipv4.js';

export const ARP_PACKET_BYTES = 28;

export const enum ArpOperation {
  REQUEST = 1,
  REPLY = 2,
}

export interface ArpPacket {
  operation: number;
  senderMac: MacAddress;
  senderIp: Ipv4Address;
  targetMac: MacAddress;
  targetIp: Ipv4Address;
}

const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;

/** The ARP packet in an Ethernet payload, or undefined unless it is Ethernet/IPv4 ARP. */
export function parseArp(bytes: Uint8Array): ArpPacket | undefined {
  if (bytes.length < ARP_PACKET_BYTES) return undefined;
  const htype = (bytes[0]! << 8) | bytes[1]!;
  const ptype = (bytes[2]! << 8) | bytes[3]!;
  if (htype !== HTYPE_ETHERNET || ptype !== PTYPE_IPV4 || bytes[4] !== 6 || bytes[5] !== 4) return undefined;
  return {
    operation: (bytes[6]! << 8) | bytes[7]!,
    senderMac: macFromBytes(bytes, 8),
    senderIp: ipv4FromBytes(bytes, 14),
    targetMac: macFromBytes(bytes, 18),
    targetIp: ipv4FromBytes(bytes, 24),
  };
}

export function buildArp(packet: ArpPacket): Uint8Array {
  const bytes = new Uint8Array(ARP_PACKET_BYTES);
  bytes[1] = HTYPE_ETHERNET;
  bytes[2] = PTYPE_IPV4 >>> 8;
  bytes[4] = 6;
  bytes[5] = 4;
  bytes[6] = (packet.operation >>> 8) & 0xff;
  bytes[7] = packet.operation & 0xff;
  bytes.set(macToBytes(packet.senderMac), 8);
  bytes.set(ipv4ToBytes(packet.senderIp), 14);
  bytes.set(macToBytes(packet.targetMac), 18);
  bytes.set(ipv4ToBytes(packet.targetIp), 24);
  return bytes;
}
