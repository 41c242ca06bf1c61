// Ethernet II frames as virtual NICs exchange them: no preamble, no FCS, no minimum padding.
// Sizes follow IEEE 802.3 clause 3 with the FCS left out; an 802.1Q tag adds 4 bytes.

import { macFromBytes, macToBytes } from './mac-address.js';
import type { MacAddress } from './mac-address.js';

export const ETHERNET_HEADER_BYTES = 14;
/** Largest payload (the MTU) of an untagged frame. */
export const ETHERNET_MTU = 1500;
/** Largest untagged frame without FCS: 14-byte header + 1500-byte payload. */
export const ETHERNET_MAX_FRAME = ETHERNET_HEADER_BYTES + ETHERNET_MTU;
/** IEEE 802.1Q 9.3: a tag is 4 bytes inserted before the EtherType. */
export const VLAN_TAG_BYTES = 4;

export const enum EtherType {
  IPV4 = 0x0800,
  ARP = 0x0806,
  VLAN = 0x8100,
  IPV6 = 0x86dd,
}

export interface EthernetFrame {
  dst: MacAddress;
  src: MacAddress;
  /** The EtherType after any 802.1Q tag. */
  etherType: number;
  /** VLAN ID (12 bits) when the frame carries an 802.1Q tag. */
  vlan?: number;
  /** A view into the frame, not a copy. */
  payload: Uint8Array;
}

/** True when `frame` carries an 802.1Q tag (TPID 0x8100 where the EtherType would be). */
export function isVlanTagged(frame: Uint8Array): boolean {
  return frame.length >= ETHERNET_HEADER_BYTES && ((frame[12]! << 8) | frame[13]!) === EtherType.VLAN;
}

/** Whether a frame has a length a switch accepts: a whole header, and no more than 1514 bytes (1518 tagged). */
export function isValidFrameLength(frame: Uint8Array): boolean {
  if (frame.length < ETHERNET_HEADER_BYTES) return false;
  const max = ETHERNET_MAX_FRAME + (isVlanTagged(frame) ? VLAN_TAG_BYTES : 0);
  return frame.length <= max;
}

/** Splits a frame into header fields and payload; undefined when it is too short. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < ETHERNET_HEADER_BYTES) return undefined;
  const dst = macFromBytes(frame, 0);
  const src = macFromBytes(frame, 6);
  let etherType = (frame[12]! << 8) | frame[13]!;
  if (etherType === EtherType.VLAN) {
    if (frame.length < ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES) return undefined;
    const vlan = ((frame[14]! << 8) | frame[15]!) & 0x0fff;
    etherType = (frame[16]! << 8) | frame[17]!;
    return { dst, src, etherType, vlan, payload: frame.subarray(ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES) };
  }
  return { dst, src, etherType, payload: frame.subarray(ETHERNET_HEADER_BYTES) };
}

/** An untagged frame. */
export function buildEthernet(dst: MacAddress, src: MacAddress, etherType: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER_BYTES + payload.length);
  frame.set(macToBytes(dst), 0);
  frame.set(macToBytes(src), 6);
  frame[12] = (etherType >>> 8) & 0xff;
  frame[13] = etherType & 0xff;
  frame.set(payload, ETHERNET_HEADER_BYTES);
  return frame;
}
