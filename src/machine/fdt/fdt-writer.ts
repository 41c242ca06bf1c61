// Serializes an FdtNode tree into a flattened devicetree blob, version 17
// (Devicetree Specification v0.4, chapter 5).

import { FdtError, type FdtNode } from './fdt-node.js';

export const FDT_MAGIC = 0xd00dfeed;
export const FDT_VERSION = 17;
/** Oldest version this blob stays compatible with (DTSpec 5.2). */
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
const HEADER_SIZE = 40;

export interface FdtReservation {
  address: bigint;
  size: bigint;
}

export interface WriteFdtOptions {
  /** boot_cpuid_phys: the hart that boots. */
  bootCpuId?: number;
  /** Memory reservation block entries (DTSpec 5.3). */
  reservations?: readonly FdtReservation[];
}

const align4 = (n: number) => (n + 3) & ~3;

export function writeFdt(root: FdtNode, options: WriteFdtOptions = {}): Uint8Array {
  if (root.name !== '') throw new FdtError(`the root node must have an empty name, not "${root.name}"`);
  const encoder = new TextEncoder();

  // Strings block: each property name once.
  const stringOffsets = new Map<string, number>();
  const stringParts: Uint8Array[] = [];
  let stringsSize = 0;
  const nameOffset = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = stringsSize;
      const bytes = encoder.encode(`${name}\0`);
      stringOffsets.set(name, off);
      stringParts.push(bytes);
      stringsSize += bytes.length;
    }
    return off;
  };

  // Structure block, built as a list of words and byte runs.
  const struct: number[] = [];
  const pushBytes = (bytes: Uint8Array) => {
    const padded = new Uint8Array(align4(bytes.length));
    padded.set(bytes);
    const view = new DataView(padded.buffer);
    for (let i = 0; i < padded.length; i += 4) struct.push(view.getUint32(i));
  };
  const emit = (node: FdtNode) => {
    struct.push(FDT_BEGIN_NODE);
    pushBytes(encoder.encode(`${node.name}\0`));
    // DTSpec 5.4.2: all properties precede the subnodes.
    for (const [name, value] of node.properties) {
      struct.push(FDT_PROP, value.length, nameOffset(name));
      pushBytes(value);
    }
    for (const child of node.children) emit(child);
    struct.push(FDT_END_NODE);
  };
  emit(root);
  struct.push(FDT_END);

  const reservations = options.reservations ?? [];
  const rsvOffset = HEADER_SIZE; // 8-byte aligned as DTSpec 5.3.1 requires
  const structOffset = rsvOffset + (reservations.length + 1) * 16;
  const structSize = struct.length * 4;
  const stringsOffset = structOffset + structSize;
  const totalSize = stringsOffset + stringsSize;

  const blob = new Uint8Array(totalSize);
  const view = new DataView(blob.buffer);
  const header = [
    FDT_MAGIC,
    totalSize,
    structOffset,
    stringsOffset,
    rsvOffset,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    options.bootCpuId ?? 0,
    stringsSize,
    structSize,
  ];
  header.forEach((word, i) => view.setUint32(i * 4, word));
  reservations.forEach((r, i) => {
    view.setBigUint64(rsvOffset + i * 16, r.address);
    view.setBigUint64(rsvOffset + i * 16 + 8, r.size);
  });
  struct.forEach((word, i) => view.setUint32(structOffset + i * 4, word));
  let at = stringsOffset;
  for (const part of stringParts) {
    blob.set(part, at);
    at += part.length;
  }
  return blob;
}
