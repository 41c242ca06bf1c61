// Decoding and encoding of L1 and L2 table entries (qcow2 spec, "Cluster mapping"). Entries are
// 64-bit big-endian; they are handled as two 32-bit halves so that offsets stay plain numbers.

export const COPIED_HI = 0x80000000; // bit 63: refcount is exactly one
export const COMPRESSED_HI = 0x40000000; // bit 62
export const ZERO_LO = 1; // bit 0 (version 3): reads as zeros

export type L2Entry =
  | { type: 'unallocated' }
  | { type: 'zero'; offset: number; copied: boolean } // offset: a preallocated cluster, or 0
  | { type: 'normal'; offset: number; copied: boolean; reserved: boolean }
  | { type: 'compressed'; offset: number; sectors: number };

function halves(table: Uint8Array, index: number): [number, number] {
  const view = new DataView(table.buffer, table.byteOffset + index * 8, 8);
  return [view.getUint32(0), view.getUint32(4)];
}

/** The host offset in bits 9..55 of an L1 or standard L2 entry (0: none). */
function offsetOf(hi: number, lo: number): number {
  return (hi & 0x00ffffff) * 2 ** 32 + ((lo & 0xfffffe00) >>> 0);
}

export function readL1Entry(table: Uint8Array, index: number): { offset: number; copied: boolean } {
  const [hi, lo] = halves(table, index);
  return { offset: offsetOf(hi, lo), copied: (hi & COPIED_HI) !== 0 };
}

export function readL2Entry(table: Uint8Array, index: number, clusterBits: number, version: number): L2Entry {
  const [hi, lo] = halves(table, index);
  if (hi & COMPRESSED_HI) {
    // Bits 0..x-1: host offset; x..61: additional 512-byte sectors, x = 62 - (cluster_bits - 8).
    const raw = ((BigInt(hi) << 32n) | BigInt(lo)) & ((1n << 62n) - 1n);
    const x = BigInt(62 - (clusterBits - 8));
    const offset = Number(raw & ((1n << x) - 1n));
    const sectors = Number(raw >> x) + 1;
    return { type: 'compressed', offset, sectors };
  }
  const offset = offsetOf(hi, lo);
  if (version >= 3 && lo & ZERO_LO) return { type: 'zero', offset, copied: (hi & COPIED_HI) !== 0 };
  if (offset === 0) return { type: 'unallocated' };
  const reserved = (hi & 0x3f000000) !== 0 || (lo & 0x1fe) !== 0;
  return { type: 'normal', offset, copied: (hi & COPIED_HI) !== 0, reserved };
}

/** Stores a standard entry (L1 or L2): host offset, copied flag, zero flag. */
export function writeEntry(table: Uint8Array, index: number, offset: number, copied: boolean, zero = false): void {
  const view = new DataView(table.buffer, table.byteOffset + index * 8, 8);
  const hi = Math.floor(offset / 2 ** 32);
  view.setUint32(0, (hi | (copied ? COPIED_HI : 0)) >>> 0);
  view.setUint32(4, ((offset % 2 ** 32) | (zero ? ZERO_LO : 0)) >>> 0);
}

/** Sets or clears bit 63 of an entry, keeping the rest. */
export function setCopiedFlag(table: Uint8Array, index: number, copied: boolean): void {
  const view = new DataView(table.buffer, table.byteOffset + index * 8, 4);
  const hi = view.getUint32(0);
  view.setUint32(0, (copied ? hi | COPIED_HI : hi & ~COPIED_HI) >>> 0);
}

/** The host clusters a compressed cluster's sectors touch: [first, last] cluster indices. */
export function compressedClusters(entry: { offset: number; sectors: number }, clusterBits: number): [number, number] {
  const start = Math.floor(entry.offset / 512) * 512;
  const end = start + entry.sectors * 512 - 1;
  return [Math.floor(start / 2 ** clusterBits), Math.floor(end / 2 ** clusterBits)];
}
