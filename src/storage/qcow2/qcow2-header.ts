// The qcow2 header (qcow2 spec, "Header" and "Header extensions"): parsing with every field
// checked before it is used, the byte offsets of the fields Vireo rewrites, and the header
// cluster of a new image. All numbers are big-endian.

import { Qcow2Error, corrupt } from './qcow2-error.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21; // QEMU's limit: 2 MiB clusters
/** QEMU's limits, which also bound what a header can make us allocate. */
export const MAX_L1_BYTES = 32 * 1024 * 1024;
export const MAX_REFCOUNT_TABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
export const MAX_BACKING_NAME = 1023;
/** Offsets stay exact in a JS number. */
export const MAX_SAFE_OFFSET = Number.MAX_SAFE_INTEGER;

/** Incompatible feature bits (v3). */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_EXTERNAL_DATA = 1n << 2n;
export const INCOMPAT_COMPRESSION_TYPE = 1n << 3n;
export const INCOMPAT_EXTENDED_L2 = 1n << 4n;

const EXT_END = 0;
const EXT_BACKING_FORMAT = 0xe2792aca;
const EXT_ENCRYPTION = 0x0537be77;
const EXT_EXTERNAL_DATA = 0x44415441;

/** Byte offsets of header fields rewritten in place (each group fits in one sector, so it is written at once). */
export const HEADER_SIZE_FIELD = 24; // size, crypt_method, l1_size, l1_table_offset: bytes 24..47
export const HEADER_REFCOUNT_TABLE_FIELD = 48; // refcount_table_offset, refcount_table_clusters: 48..59
export const HEADER_SNAPSHOTS_FIELD = 60; // nb_snapshots, snapshots_offset: 60..71
export const HEADER_AUTOCLEAR_FIELD = 88;

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  size: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  backingFile: string | null;
  backingFormat: string | null;
}

/** Guest bytes one L2 table maps. */
export function l2Coverage(clusterBits: number): number {
  return 2 ** (2 * clusterBits - 3);
}

/** L1 entries needed for a disk of `size` bytes. */
export function l1EntriesFor(size: number, clusterBits: number): number {
  return Math.ceil(size / l2Coverage(clusterBits));
}

/** The largest virtual size whose L1 table stays within MAX_L1_BYTES. */
export function maxVirtualSize(clusterBits: number): number {
  return Math.min((MAX_L1_BYTES / 8) * l2Coverage(clusterBits), 2 ** 52);
}

function u64(view: DataView, at: number): bigint {
  return view.getBigUint64(at);
}

function safe(value: bigint, path: string, field: string): number {
  if (value > BigInt(MAX_SAFE_OFFSET)) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: its ${field} (${value}) is beyond what this implementation handles (2^53)`, { path, op: 'open' });
  return Number(value);
}

/**
 * Parses and checks the header cluster `bytes` (the first min(cluster, file) bytes of a file of
 * `fileSize` bytes). Throws Qcow2Error for anything unsupported or inconsistent; the returned
 * header's tables lie inside the file, cluster-aligned, and do not overlap one another.
 */
export function parseQcow2Header(bytes: Uint8Array, fileSize: number, path: string): Qcow2Header {
  const ctx = { path, op: 'open' };
  if (bytes.length < 72) {
    throw new Qcow2Error('bad-magic', `${path} is not a qcow2 image: it is only ${fileSize} bytes long`, ctx);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== QCOW2_MAGIC) throw new Qcow2Error('bad-magic', `${path} is not a qcow2 image (no QFI\\xfb magic); open it as a raw image instead`, ctx);
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) {
    throw new Qcow2Error('unsupported-version', `cannot open qcow2 image ${path}: version ${version} is not supported (only 2 and 3); convert it with qemu-img convert -O qcow2 -o compat=1.1`, ctx);
  }
  const clusterBits = view.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    throw new Qcow2Error(clusterBits > MAX_CLUSTER_BITS ? 'too-large' : 'corrupt', `cannot open qcow2 image ${path}: cluster_bits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`, ctx);
  }
  const clusterSize = 2 ** clusterBits;
  const cryptMethod = view.getUint32(32);
  if (cryptMethod !== 0) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: it is encrypted (crypt_method ${cryptMethod}), which Vireo does not support; decrypt it with qemu-img convert`, ctx);

  let incompatibleFeatures = 0n;
  let compatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  let refcountOrder = 4;
  let headerLength = 72;
  if (version === 3) {
    if (bytes.length < 104) throw corrupt(path, 'the version 3 header is cut short', ctx);
    incompatibleFeatures = u64(view, 72);
    compatibleFeatures = u64(view, 80);
    autoclearFeatures = u64(view, 88);
    refcountOrder = view.getUint32(96);
    headerLength = view.getUint32(100);
    if (headerLength < 104 || headerLength % 8 !== 0 || headerLength > bytes.length) throw corrupt(path, `header_length ${headerLength} is not a multiple of 8 between 104 and the cluster size`, ctx);
    if (refcountOrder > 6) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: refcount_order ${refcountOrder} is above 6 (64-bit refcounts)`, ctx);
    const known = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_EXTERNAL_DATA | INCOMPAT_COMPRESSION_TYPE | INCOMPAT_EXTENDED_L2;
    const unknown = incompatibleFeatures & ~known;
    if (unknown !== 0n) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: it uses incompatible features Vireo does not know (bits 0x${unknown.toString(16)}); use a newer tool to convert it`, ctx);
    if (incompatibleFeatures & INCOMPAT_EXTERNAL_DATA) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: it keeps its data in an external data file, which Vireo does not support`, ctx);
    if (incompatibleFeatures & INCOMPAT_EXTENDED_L2) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: it uses extended L2 entries (subclusters), which Vireo does not support; convert it with qemu-img convert -o extended_l2=off`, ctx);
    if (incompatibleFeatures & INCOMPAT_COMPRESSION_TYPE) {
      const type = headerLength > 104 ? bytes[104]! : 0;
      if (type !== 0) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: compression type ${type} (zstd) is not supported, only deflate; convert it with qemu-img convert -o compression_type=zlib`, ctx);
    }
  }

  const size = safe(u64(view, 24), path, 'virtual size');
  if (size > maxVirtualSize(clusterBits)) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: its virtual size ${size} is above the ${maxVirtualSize(clusterBits)} bytes allowed with ${clusterSize}-byte clusters`, ctx);
  const l1Size = view.getUint32(36);
  if (l1Size * 8 > MAX_L1_BYTES) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: its L1 table of ${l1Size} entries is above the ${MAX_L1_BYTES / 8} allowed`, ctx);
  if (l1Size < l1EntriesFor(size, clusterBits)) throw corrupt(path, `its L1 table (${l1Size} entries) is too small for its virtual size ${size}`, ctx);
  const l1TableOffset = safe(u64(view, 40), path, 'L1 table offset');
  const refcountTableOffset = safe(u64(view, 48), path, 'refcount table offset');
  const refcountTableClusters = view.getUint32(56);
  if (refcountTableClusters * clusterSize > MAX_REFCOUNT_TABLE_BYTES) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: its refcount table of ${refcountTableClusters} clusters is above the ${MAX_REFCOUNT_TABLE_BYTES} bytes allowed`, ctx);
  if (refcountTableClusters === 0) throw corrupt(path, 'it has no refcount table', ctx);
  const nbSnapshots = view.getUint32(60);
  if (nbSnapshots > MAX_SNAPSHOTS) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: it claims ${nbSnapshots} snapshots, above the ${MAX_SNAPSHOTS} allowed`, ctx);
  const snapshotsOffset = safe(u64(view, 64), path, 'snapshot table offset');

  checkTable(path, 'L1 table', l1TableOffset, l1Size * 8, clusterSize, fileSize);
  checkTable(path, 'refcount table', refcountTableOffset, refcountTableClusters * clusterSize, clusterSize, fileSize);
  if (nbSnapshots > 0) checkTable(path, 'snapshot table', snapshotsOffset, 1, clusterSize, fileSize);
  const regions: Array<[string, number, number]> = [['header', 0, clusterSize], ['refcount table', refcountTableOffset, refcountTableClusters * clusterSize]];
  if (l1Size > 0) regions.push(['L1 table', l1TableOffset, l1Size * 8]);
  checkDisjoint(path, regions);

  let backingFile: string | null = null;
  const backingFileOffset = safe(u64(view, 8), path, 'backing file name offset');
  if (backingFileOffset !== 0) {
    const length = view.getUint32(16);
    if (length > MAX_BACKING_NAME) throw new Qcow2Error('too-large', `cannot open qcow2 image ${path}: its backing file name is ${length} bytes long, above the ${MAX_BACKING_NAME} allowed`, ctx);
    if (backingFileOffset + length > bytes.length) throw corrupt(path, `the backing file name at ${backingFileOffset} lies outside the header cluster`, ctx);
    backingFile = new TextDecoder().decode(bytes.subarray(backingFileOffset, backingFileOffset + length));
    if (backingFile.length === 0 || backingFile.includes('\0')) throw corrupt(path, 'the backing file name is empty or holds a NUL byte', ctx);
  }

  let backingFormat: string | null = null;
  // Extensions follow the header; each is at least 8 bytes, so the walk ends within the cluster.
  for (let at = headerLength; at + 8 <= bytes.length; ) {
    const type = view.getUint32(at);
    const length = view.getUint32(at + 4);
    if (type === EXT_END) break;
    const data = at + 8;
    if (length > bytes.length - data) throw corrupt(path, `header extension 0x${type.toString(16)} at ${at} runs past the header cluster`, ctx);
    if (type === EXT_BACKING_FORMAT) backingFormat = new TextDecoder().decode(bytes.subarray(data, data + length));
    else if (type === EXT_ENCRYPTION) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: it carries a full-disk-encryption header, which Vireo does not support`, ctx);
    else if (type === EXT_EXTERNAL_DATA) throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path}: it names an external data file, which Vireo does not support`, ctx);
    at = data + Math.ceil(length / 8) * 8;
  }

  return {
    version, clusterBits, size, l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
    incompatibleFeatures, compatibleFeatures, autoclearFeatures, refcountOrder, headerLength, backingFile, backingFormat,
  };
}

/** A table must start on a cluster boundary after the header and end inside the file. */
export function checkTable(path: string, what: string, offset: number, bytes: number, clusterSize: number, fileSize: number): void {
  if (offset % clusterSize !== 0) throw corrupt(path, `the ${what} offset ${offset} is not aligned to the ${clusterSize}-byte cluster size`, { op: 'open', offset });
  if (bytes > 0 && offset === 0) throw corrupt(path, `the ${what} overlaps the header at offset 0`, { op: 'open', offset });
  if (offset + bytes > fileSize) throw corrupt(path, `the ${what} at ${offset} (${bytes} bytes) lies past the end of the file (${fileSize} bytes)`, { op: 'open', offset, length: bytes });
}

/** Throws when two of the [name, offset, bytes] regions share a byte. */
export function checkDisjoint(path: string, regions: Array<[string, number, number]>): void {
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const [a, aStart, aLen] = regions[i]!;
      const [b, bStart, bLen] = regions[j]!;
      if (aLen > 0 && bLen > 0 && aStart < bStart + bLen && bStart < aStart + aLen) throw corrupt(path, `the ${a} (at ${aStart}) and the ${b} (at ${bStart}) overlap`, { op: 'open' });
    }
  }
}

export type NewHeaderFields = Pick<Qcow2Header, 'clusterBits' | 'size' | 'l1Size' | 'l1TableOffset' | 'refcountTableOffset' | 'refcountTableClusters'> & {
  backingFile?: string | undefined;
  backingFormat?: string | undefined;
};

/** The header cluster of a new version 3 image with 16-bit refcounts, deflate compression and no snapshots. */
export function buildQcow2Header(fields: NewHeaderFields): Uint8Array {
  const clusterSize = 2 ** fields.clusterBits;
  const out = new Uint8Array(clusterSize);
  const view = new DataView(out.buffer);
  const headerLength = 112;
  view.setUint32(0, QCOW2_MAGIC);
  view.setUint32(4, 3);
  view.setUint32(20, fields.clusterBits);
  view.setBigUint64(24, BigInt(fields.size));
  view.setUint32(36, fields.l1Size);
  view.setBigUint64(40, BigInt(fields.l1TableOffset));
  view.setBigUint64(48, BigInt(fields.refcountTableOffset));
  view.setUint32(56, fields.refcountTableClusters);
  view.setUint32(96, 4);
  view.setUint32(100, headerLength);
  let at = headerLength;
  const encoder = new TextEncoder();
  if (fields.backingFormat !== undefined) {
    const name = encoder.encode(fields.backingFormat);
    view.setUint32(at, EXT_BACKING_FORMAT);
    view.setUint32(at + 4, name.length);
    out.set(name, at + 8);
    at += 8 + Math.ceil(name.length / 8) * 8;
  }
  at += 8; // end-of-extensions marker: type 0, length 0
  if (fields.backingFile !== undefined) {
    const name = encoder.encode(fields.backingFile);
    if (at + name.length > clusterSize) throw new Qcow2Error('invalid-argument', `the backing file name ${fields.backingFile} does not fit in the header cluster; use a shorter path or larger clusters`, { path: fields.backingFile, op: 'create' });
    out.set(name, at);
    view.setBigUint64(8, BigInt(at));
    view.setUint32(16, name.length);
  }
  return out;
}
