// 48-bit IEEE 802 MAC addresses as a branded, canonical text form ("52:54:00:12:34:56"), so
// they can key a Map and cannot be mixed up with other strings.

export type MacAddress = string & { readonly __brand: 'MacAddress' };

export class MacAddressError extends Error {
  readonly kind = 'mac-address';
}

export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff' as MacAddress;

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Parses "52:54:00:12:34:56" (or with dashes, any case) into the canonical form. */
export function macAddress(text: string): MacAddress {
  const canonical = text.trim().toLowerCase().replace(/-/g, ':');
  if (!MAC_TEXT.test(canonical)) {
    throw new MacAddressError(`"${text}" is not a MAC address; write six hex bytes such as 52:54:00:12:34:56`);
  }
  return canonical as MacAddress;
}

/** The six bytes at `offset` (the caller checks the length). */
export function macFromBytes(bytes: Uint8Array, offset = 0): MacAddress {
  let text = '';
  for (let i = 0; i < 6; i++) {
    if (i > 0) text += ':';
    text += bytes[offset + i]!.toString(16).padStart(2, '0');
  }
  return text as MacAddress;
}

export function macToBytes(mac: MacAddress): Uint8Array {
  return Uint8Array.from(mac.split(':'), (byte) => parseInt(byte, 16));
}

/** IEEE 802 5.2: the I/G bit (bit 0 of the first byte) marks group (multicast, broadcast) addresses. */
export function isGroupMac(mac: MacAddress): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) !== 0;
}

/** A locally administered unicast address (IEEE 802 U/L bit set, I/G clear) from a small number. */
export function localMac(index: number): MacAddress {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new MacAddressError(`MAC index ${index} must be an integer from 0 to 2^32-1`);
  }
  const bytes = new Uint8Array([0x02, 0x00, index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff]);
  return macFromBytes(bytes);
}
