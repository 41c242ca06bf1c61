// Opening a qcow2 image: the header, L1 table, snapshot table and refcount table are read and
// checked against each other (a hostile image must fail here, not corrupt itself later), the
// backing chain is opened, and autoclear bits a writer does not maintain are cleared.

import type { BackingImage } from './backing-image.js';
import { type OpenQcow2Backing, openBacking } from './backing-chain.js';
import type { ImageFile } from './image-file.js';
import { Qcow2Error, corrupt } from './qcow2-error.js';
import {
  HEADER_AUTOCLEAR_FIELD, INCOMPAT_CORRUPT, INCOMPAT_DIRTY, MAX_CLUSTER_BITS, MIN_CLUSTER_BITS, QCOW2_MAGIC, checkDisjoint, parseQcow2Header,
} from './qcow2-header.js';
import type { Qcow2OpenOptions, Qcow2SpaceGuard } from './qcow2-image.js';
import type { SnapshotTableState } from './qcow2-snapshots.js';
import { RefcountTable } from './refcount-table.js';
import { type SnapshotEntry, readSnapshotTable } from './snapshot-table.js';

/** Everything an open image starts from, read and checked. */
export interface OpenedQcow2 {
  path: string;
  readOnly: boolean;
  version: 2 | 3;
  clusterBits: number;
  size: number;
  file: ImageFile;
  refcounts: RefcountTable;
  l2CacheTables: number;
  backing: BackingImage | null;
  backingFile: string | null;
  l1Table: Uint8Array;
  l1Offset: number;
  l1Size: number;
  snapshots: SnapshotTableState;
  space: Qcow2SpaceGuard | null;
}

/** Reads and checks the image in `file` and opens its backing chain; `chain` holds the real paths of the images above it. */
export async function openQcow2(file: ImageFile, options: Qcow2OpenOptions, chain: string[], openQcow2Backing: OpenQcow2Backing): Promise<OpenedQcow2> {
  const path = file.path;
  const readOnly = options.readOnly ?? false;
  const first = new Uint8Array(Math.min(file.size, 104));
  await file.readExact(0, first, 'header');
  const probe = parseFirstBits(first);
  const headerBytes = new Uint8Array(Math.min(file.size, 2 ** probe));
  await file.readExact(0, headerBytes, 'header');
  const header = parseQcow2Header(headerBytes, file.size, path);
  if (!readOnly && header.incompatibleFeatures & INCOMPAT_CORRUPT) {
    throw corrupt(path, 'QEMU marked it corrupt (incompatible feature bit 1); it can be opened read-only', { op: 'open' });
  }
  if (!readOnly && header.incompatibleFeatures & INCOMPAT_DIRTY) {
    throw new Qcow2Error('unsupported-feature', `cannot open qcow2 image ${path} for writing: it is marked dirty (lazy refcounts not yet written back); repair it with qemu-img check -r all, or open it read-only`, { path, op: 'open' });
  }
  const cs = 2 ** header.clusterBits;
  const l1Table = new Uint8Array(Math.ceil((header.l1Size * 8) / cs) * cs || cs);
  await file.readExact(header.l1TableOffset, l1Table.subarray(0, header.l1Size * 8), 'L1 table');
  let snapshots: SnapshotEntry[] = [];
  let snapshotsBytes = 0;
  if (header.nbSnapshots > 0) {
    const table = await readSnapshotTable(file, header.snapshotsOffset, header.nbSnapshots, header.clusterBits);
    snapshots = table.entries;
    snapshotsBytes = table.bytes;
    checkDisjoint(path, [
      ['header', 0, cs], ['refcount table', header.refcountTableOffset, header.refcountTableClusters * cs],
      ['L1 table', header.l1TableOffset, header.l1Size * 8], ['snapshot table', header.snapshotsOffset, snapshotsBytes],
    ]);
  }
  const refcounts = await RefcountTable.load(file, header.clusterBits, header.refcountOrder, header.refcountTableOffset, header.refcountTableClusters);
  // A refcount block inside another table would turn refcount updates into table damage.
  const regions: Array<[string, number, number]> = [['header', 0, cs], ['refcount table', header.refcountTableOffset, header.refcountTableClusters * cs], ['L1 table', header.l1TableOffset, header.l1Size * 8]];
  if (snapshotsBytes > 0) regions.push(['snapshot table', header.snapshotsOffset, snapshotsBytes]);
  for (let i = 0; i < refcounts.tableEntries; i++) {
    const offset = refcounts.blockOffset(i);
    if (offset === 0) continue;
    for (const [name, start, length] of regions) {
      if (length > 0 && offset < start + length && start < offset + cs) throw corrupt(path, `refcount block ${i} at ${offset} overlaps the ${name}`, { op: 'open', offset });
    }
  }
  let backing: BackingImage | null = null;
  if (header.backingFile !== null) backing = await openBacking(path, header.backingFile, header.backingFormat, chain, openQcow2Backing);
  if (!readOnly && header.autoclearFeatures !== 0n) {
    // Spec: a writer that does not maintain what an autoclear bit promises (e.g. bitmaps) clears it.
    try {
      await file.writeAt(HEADER_AUTOCLEAR_FIELD, new Uint8Array(8));
      await file.sync();
    } catch (e) {
      await backing?.close();
      throw e;
    }
  }
  return {
    path, readOnly, version: header.version, clusterBits: header.clusterBits, size: header.size, file, refcounts,
    l2CacheTables: options.l2CacheTables ?? 64, backing, backingFile: header.backingFile, l1Table, l1Offset: header.l1TableOffset,
    l1Size: header.l1Size, snapshots: { entries: snapshots, offset: header.snapshotsOffset, bytes: snapshotsBytes }, space: readOnly ? null : options.space ?? null,
  };
}

/** Validates magic, version and cluster_bits from the first bytes, so the header cluster can be read. */
function parseFirstBits(first: Uint8Array): number {
  if (first.length < 24 || new DataView(first.buffer, first.byteOffset).getUint32(0) !== QCOW2_MAGIC) {
    return MIN_CLUSTER_BITS; // parseQcow2Header explains what is wrong
  }
  const bits = new DataView(first.buffer, first.byteOffset).getUint32(20);
  return bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS ? bits : MIN_CLUSTER_BITS;
}
