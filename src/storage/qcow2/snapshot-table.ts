// The internal snapshot table (qcow2 spec, "Snapshots"): entries of a 40-byte fixed part,
// extra data (vm_state_size_large, disk_size, ...), the id string and the name, each entry
// padded to 8 bytes. Parsing bounds every length by QEMU's limits and by the file.

import type { ImageFile } from './image-file.js';
import { MAX_L1_BYTES, checkTable } from './qcow2-header.js';
import { Qcow2Error, corrupt } from './qcow2-error.js';

export const MAX_SNAPSHOT_TABLE_BYTES = 64 * 1024 * 1024;
const MAX_EXTRA_DATA = 1024;
const READ_CHUNK = 64 * 1024;

export interface SnapshotEntry {
  id: string;
  name: string;
  l1TableOffset: number;
  l1Size: number;
  dateSec: number;
  dateNsec: number;
  vmClockNsec: bigint;
  vmStateSize: number;
  /** The virtual disk size when the snapshot was taken (extra data bytes 8..15), if recorded. */
  diskSize: number | null;
  /** Extra data as found, kept so that fields Vireo does not use survive a rewrite. */
  extra: Uint8Array;
}

/** Reads `count` entries at `offset`; returns them and the table's length in bytes. */
export async function readSnapshotTable(file: ImageFile, offset: number, count: number, clusterBits: number): Promise<{ entries: SnapshotEntry[]; bytes: number }> {
  const path = file.path;
  const entries: SnapshotEntry[] = [];
  const decoder = new TextDecoder();
  // The table is read in chunks, so that many small entries do not mean many small reads.
  let chunk = new Uint8Array(0);
  let chunkStart = offset;
  const bytesAt = async (position: number, length: number, what: string): Promise<Uint8Array> => {
    if (position < chunkStart || position + length > chunkStart + chunk.length) {
      const size = Math.max(length, Math.min(READ_CHUNK, file.size - position));
      chunk = new Uint8Array(Math.max(0, size));
      chunkStart = position;
      const n = await file.readAt(position, chunk);
      chunk = chunk.subarray(0, n);
      if (n < length) await file.readExact(position, new Uint8Array(length), what); // throws the past-the-end error
    }
    return chunk.subarray(position - chunkStart, position - chunkStart + length);
  };
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at - offset + 40 > MAX_SNAPSHOT_TABLE_BYTES) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: its snapshot table exceeds ${MAX_SNAPSHOT_TABLE_BYTES} bytes`, { path, op: 'open', offset });
    const fixed = await bytesAt(at, 40, `snapshot table entry ${i}`);
    const view = new DataView(fixed.buffer, fixed.byteOffset, 40);
    const l1TableOffset = Number(view.getBigUint64(0));
    const l1Size = view.getUint32(8);
    const idSize = view.getUint16(12);
    const nameSize = view.getUint16(14);
    const extraSize = view.getUint32(36);
    if (extraSize > MAX_EXTRA_DATA) throw corrupt(path, `snapshot ${i} has ${extraSize} bytes of extra data (at most ${MAX_EXTRA_DATA})`, { op: 'open', offset: at });
    if (l1Size * 8 > MAX_L1_BYTES) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: snapshot ${i} has an L1 table of ${l1Size} entries, above the ${MAX_L1_BYTES / 8} allowed`, { path, op: 'open', offset: at });
    checkTable(path, `L1 table of snapshot ${i}`, l1TableOffset, l1Size * 8, 2 ** clusterBits, file.size);
    const variable = await bytesAt(at + 40, extraSize + idSize + nameSize, `snapshot table entry ${i}`);
    const extra = variable.slice(0, extraSize);
    const extraView = new DataView(extra.buffer);
    entries.push({
      id: decoder.decode(variable.subarray(extraSize, extraSize + idSize)),
      name: decoder.decode(variable.subarray(extraSize + idSize)),
      l1TableOffset,
      l1Size,
      dateSec: view.getUint32(16),
      dateNsec: view.getUint32(20),
      vmClockNsec: view.getBigUint64(24),
      vmStateSize: view.getUint32(32),
      diskSize: extraSize >= 16 ? Number(extraView.getBigUint64(8)) : null,
      extra,
    });
    at += Math.ceil((40 + variable.length) / 8) * 8;
  }
  return { entries, bytes: at - offset };
}

/** The table's bytes for `entries`, each with at least 16 bytes of extra data (required by version 3). */
export function encodeSnapshotTable(entries: readonly SnapshotEntry[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const id = encoder.encode(entry.id);
    const name = encoder.encode(entry.name);
    const extra = new Uint8Array(Math.max(16, entry.extra.length));
    extra.set(entry.extra);
    const extraView = new DataView(extra.buffer);
    extraView.setBigUint64(0, BigInt(entry.vmStateSize));
    if (entry.diskSize !== null) extraView.setBigUint64(8, BigInt(entry.diskSize));
    const bytes = new Uint8Array(Math.ceil((40 + extra.length + id.length + name.length) / 8) * 8);
    const view = new DataView(bytes.buffer);
    view.setBigUint64(0, BigInt(entry.l1TableOffset));
    view.setUint32(8, entry.l1Size);
    view.setUint16(12, id.length);
    view.setUint16(14, name.length);
    view.setUint32(16, entry.dateSec);
    view.setUint32(20, entry.dateNsec);
    view.setBigUint64(24, entry.vmClockNsec);
    view.setUint32(32, Math.min(entry.vmStateSize, 0xffffffff));
    view.setUint32(36, extra.length);
    bytes.set(extra, 40);
    bytes.set(id, 40 + extra.length);
    bytes.set(name, 40 + extra.length + id.length);
    parts.push(bytes);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
