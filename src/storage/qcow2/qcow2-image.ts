// A qcow2 disk image (versions 2 and 3): thin allocation, copy-on-write from a backing file and
// between internal snapshots, compressed and zero clusters, discard with cluster reuse.
//
// Every request runs through one queue, so metadata updates never interleave.
//
// Write ordering (what makes a SIGKILL or power loss at any moment leave at most leaked
// clusters, never a reference to a cluster whose refcount is 0 or whose data was not written):
//   1. A new cluster's refcount is written (refcount-table.ts syncs a new refcount block before
//      the table entry that points to it), then the cluster's data (or a new table) is written.
//   2. fdatasync (barrier()).
//   3. Only then the L2 (or L1) entry that points at the cluster is written.
//   4. A cluster that is no longer referenced (copy-on-write, discard, replaced table) is queued
//      and its refcount is decremented only after the next fdatasync, when the write that
//      dropped the reference is durable.
// Structures replaced as a whole (L1 table on resize or revert, snapshot table, refcount table)
// are written to new clusters, synced, and then switched by one header write of at most 24
// bytes within the first sector; the old clusters are freed after the header is synced.
// The copied flag (bit 63) is kept equal to "refcount is 1" for QEMU, which writes in place when
// it is set; Vireo never trusts it and decides by the refcount. Flags are cleared before the
// refcounts rise (snapshot creation) and set only after lowered refcounts are durable (snapshot
// deletion and revert), so a crash can leave a clear flag on an exclusive cluster (reported by
// qemu-img check as an OFLAG_COPIED error, harmless, fixed by -r all) but never a set flag on a
// shared one.

import { inflateRawSync } from 'node:zlib';
import type { BackingImage } from './backing-image.js';
import { type OpenQcow2Backing, openBacking } from './backing-chain.js';
import { ClusterMap } from './cluster-map.js';
import { ImageFile } from './image-file.js';
import { readL1Entry, readL2Entry, setCopiedFlag, writeEntry, type L2Entry } from './l2-entry.js';
import { type Qcow2CheckResult, checkQcow2 } from './check-qcow2.js';
import { Qcow2Error, corrupt } from './qcow2-error.js';
import {
  HEADER_AUTOCLEAR_FIELD, HEADER_SIZE_FIELD, HEADER_SNAPSHOTS_FIELD, INCOMPAT_CORRUPT, INCOMPAT_DIRTY, MAX_CLUSTER_BITS, MIN_CLUSTER_BITS,
  MAX_SNAPSHOTS, QCOW2_MAGIC, checkDisjoint, l1EntriesFor, maxVirtualSize, parseQcow2Header,
} from './qcow2-header.js';
import { RefcountTable } from './refcount-table.js';
import { SerialQueue } from './serial-queue.js';
import { type SnapshotEntry, encodeSnapshotTable, readSnapshotTable } from './snapshot-table.js';
import { writeNewImage } from './write-new-image.js';

export interface Qcow2CreateOptions {
  /** Virtual size in bytes, a multiple of 512; defaults to the backing file's size. */
  size?: number;
  /** log2 of the cluster size, 9..21; 16 (64 KiB) by default. */
  clusterBits?: number;
  /** Backing file name as stored in the image; a relative name is relative to the image's directory. */
  backingFile?: string;
  backingFormat?: 'raw' | 'qcow2';
}

export interface Qcow2OpenOptions {
  readOnly?: boolean;
  /** L2 tables kept in memory (default 64: 32 GiB of disk with 64 KiB clusters). */
  l2CacheTables?: number;
  /** Asked before the image file may grow (a physical LUN with a capacity). */
  space?: Qcow2SpaceGuard;
}

/**
 * Lets the owner of the storage refuse growth. Every operation that may allocate clusters
 * first reserves an upper bound of the bytes the file can grow by; the reservation is made
 * before any metadata changes, so a throw from reserve() leaves the image as it was.
 */
export interface Qcow2SpaceGuard {
  /** The file may grow by up to `bytes`; throw to refuse the operation. */
  reserve(bytes: number): void;
  /** The operation that reserved `bytes` is over; its real growth now shows in fileSize. */
  release(bytes: number): void;
}

export interface Qcow2SnapshotInfo {
  id: string;
  name: string;
  /** The virtual size when it was taken. */
  size: number;
  date: Date;
}

/** A run of guest bytes that one layer holds the same way (see Qcow2Image.allocationMap). */
export interface Qcow2Extent {
  offset: number;
  length: number;
  state: 'data' | 'zero' | 'unallocated';
}

/** Guest bytes written per batch of new clusters (one buffer, one sync). */
const MAX_WRITE_BATCH = 4 * 1024 * 1024;

export class Qcow2Image implements BackingImage {
  readonly path: string;
  readonly readOnly: boolean;
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  /** The backing file name as stored in the header, or null. */
  readonly backingFile: string | null;
  private virtualSize: number;
  private readonly file: ImageFile;
  private readonly refcounts: RefcountTable;
  private readonly map: ClusterMap;
  private readonly backing: BackingImage | null;
  private readonly queue = new SerialQueue();
  private readonly space: Qcow2SpaceGuard | null;
  private snapshots: SnapshotEntry[];
  private snapshotsOffset: number;
  private snapshotsBytes: number;
  private closed = false;

  private constructor(init: {
    path: string; readOnly: boolean; version: 2 | 3; clusterBits: number; size: number; file: ImageFile; refcounts: RefcountTable;
    l2CacheTables: number; backing: BackingImage | null; backingFile: string | null; l1Table: Uint8Array; l1Offset: number; l1Size: number;
    snapshots: SnapshotEntry[]; snapshotsOffset: number; snapshotsBytes: number; space: Qcow2SpaceGuard | null;
  }) {
    this.path = init.path;
    this.readOnly = init.readOnly;
    this.version = init.version;
    this.clusterBits = init.clusterBits;
    this.clusterSize = 2 ** init.clusterBits;
    this.virtualSize = init.size;
    this.file = init.file;
    this.refcounts = init.refcounts;
    this.backing = init.backing;
    this.backingFile = init.backingFile;
    this.map = new ClusterMap({
      path: init.path, file: init.file, refcounts: init.refcounts, clusterBits: init.clusterBits, version: init.version,
      l1Table: init.l1Table, l1Offset: init.l1Offset, l1Size: init.l1Size, l2CacheTables: init.l2CacheTables,
    });
    this.snapshots = init.snapshots;
    this.snapshotsOffset = init.snapshotsOffset;
    this.snapshotsBytes = init.snapshotsBytes;
    this.space = init.space;
  }

  /** The virtual disk size in bytes. */
  get size(): number {
    return this.virtualSize;
  }

  /** The length of the image file in bytes (what it takes on the host; no holes are punched). */
  get fileSize(): number {
    return this.file.size;
  }

  /** Writes a new, empty version 3 image (16-bit refcounts) at `path` and opens it read-write. */
  static async create(path: string, options: Qcow2CreateOptions): Promise<Qcow2Image> {
    const clusterBits = options.clusterBits ?? 16;
    const ctx = { path, op: 'create' };
    if (!Number.isInteger(clusterBits) || clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
      throw new Qcow2Error('invalid-argument', `cannot create ${path}: clusterBits ${clusterBits} is outside ${MIN_CLUSTER_BITS}..${MAX_CLUSTER_BITS}`, ctx);
    }
    let size = options.size;
    if (size === undefined) {
      if (options.backingFile === undefined) throw new Qcow2Error('invalid-argument', `cannot create ${path}: give a size (or a backing file to take it from)`, ctx);
      const backing = await openBacking(path, options.backingFile, options.backingFormat ?? null, [], openQcow2Backing);
      size = Math.ceil(backing.size / 512) * 512;
      await backing.close();
    }
    if (!Number.isSafeInteger(size) || size < 0 || size % 512 !== 0 || size > maxVirtualSize(clusterBits)) {
      throw new Qcow2Error('invalid-argument', `cannot create ${path}: size ${size} must be a multiple of 512 between 0 and ${maxVirtualSize(clusterBits)} (with ${2 ** clusterBits}-byte clusters)`, ctx);
    }
    await writeNewImage(path, { size, clusterBits, backingFile: options.backingFile, backingFormat: options.backingFormat });
    return Qcow2Image.open(path);
  }

  /** Opens a version 2 or 3 image and its backing chain (backing files are opened read-only). */
  static open(path: string, options: Qcow2OpenOptions = {}): Promise<Qcow2Image> {
    return openImage(path, options, []);
  }

  /** @internal Used by openImage: everything read and checked. */
  static async fromFile(file: ImageFile, options: Qcow2OpenOptions, chain: string[]): Promise<Qcow2Image> {
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
    const image = new Qcow2Image({
      path, readOnly, version: header.version, clusterBits: header.clusterBits, size: header.size, file, refcounts,
      l2CacheTables: options.l2CacheTables ?? 64, backing, backingFile: header.backingFile, l1Table, l1Offset: header.l1TableOffset,
      l1Size: header.l1Size, snapshots, snapshotsOffset: header.snapshotsOffset, snapshotsBytes, space: readOnly ? null : options.space ?? null,
    });
    refcounts.inUse = (offset, length) => image.metadataAt(offset, length);
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
    return image;
  }

  // ---- data path -------------------------------------------------------------------------

  /** Fills `into` with the guest bytes at [offset, offset + into.length). */
  read(offset: number, into: Uint8Array): Promise<void> {
    this.checkAccess('read', offset, into.length);
    return this.queue.run(() => this.readLocked(offset, into));
  }

  /** Stores `data` at `offset`, allocating clusters on first write. */
  write(offset: number, data: Uint8Array): Promise<void> {
    this.checkAccess('write', offset, data.length);
    return this.queue.run(() => this.writeRange(offset, data));
  }

  /** Makes [offset, offset + length) read as zeros; whole clusters become zero clusters and give their space back. */
  writeZeroes(offset: number, length: number): Promise<void> {
    this.checkAccess('writeZeroes', offset, length);
    return this.queue.run(() => this.zeroLocked(offset, length));
  }

  /** Deallocates [offset, offset + length): it reads as zeros, and freed clusters are reused. */
  discard(offset: number, length: number): Promise<void> {
    this.checkAccess('discard', offset, length);
    return this.queue.run(() => this.zeroLocked(offset, length));
  }

  /** Makes every completed write durable, then releases clusters freed since the last flush. */
  flush(): Promise<void> {
    this.live('flush');
    if (this.readOnly) return Promise.resolve();
    return this.queue.run(async () => {
      await this.map.barrier();
      await this.file.sync();
    });
  }

  /** Grows the virtual disk to `newSize` bytes; shrinking is refused. */
  resize(newSize: number): Promise<void> {
    this.live('resize');
    this.checkWritable('resize');
    return this.queue.run(async () => {
      if (!Number.isSafeInteger(newSize) || newSize % 512 !== 0 || newSize > maxVirtualSize(this.clusterBits)) {
        throw new Qcow2Error('invalid-argument', `cannot resize ${this.path} to ${newSize} bytes: the size must be a multiple of 512 up to ${maxVirtualSize(this.clusterBits)}`, { path: this.path, op: 'resize' });
      }
      if (newSize < this.virtualSize) {
        throw new Qcow2Error('invalid-argument', `cannot shrink ${this.path} from ${this.virtualSize} to ${newSize} bytes: shrinking would lose data and is not supported; copy the data to a smaller image instead`, { path: this.path, op: 'resize' });
      }
      await this.map.barrier();
      const needed = l1EntriesFor(newSize, this.clusterBits);
      if (needed <= this.map.l1Size) {
        const field = new Uint8Array(8);
        new DataView(field.buffer).setBigUint64(0, BigInt(newSize));
        await this.file.writeAt(HEADER_SIZE_FIELD, field);
        await this.file.sync();
        this.virtualSize = newSize;
        return;
      }
      const table = new Uint8Array(Math.ceil((needed * 8) / this.clusterSize) * this.clusterSize);
      table.set(this.map.l1Table.subarray(0, this.map.l1Size * 8));
      await this.withSpace(table.length / this.clusterSize, () => this.map.replaceL1(table, needed, newSize));
      this.virtualSize = newSize;
    });
  }

  /** Syncs, releases freed clusters and closes the image and its backing chain. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      try {
        if (!this.readOnly) {
          await this.map.barrier();
          await this.file.sync();
        }
      } finally {
        await this.file.close();
        await this.backing?.close();
      }
    });
  }

  // ---- snapshots ---------------------------------------------------------------------------

  listSnapshots(): Qcow2SnapshotInfo[] {
    return this.snapshots.map((s) => ({ id: s.id, name: s.name, size: s.diskSize ?? this.virtualSize, date: new Date(s.dateSec * 1000 + Math.floor(s.dateNsec / 1e6)) }));
  }

  /** Records the current disk contents as internal snapshot `name`. */
  createSnapshot(name: string): Promise<void> {
    this.live('createSnapshot');
    this.checkWritable('createSnapshot');
    return this.queue.run(async () => {
      const bytes = new TextEncoder().encode(name);
      if (bytes.length === 0 || bytes.length > 0xffff) throw new Qcow2Error('invalid-argument', `cannot create a snapshot of ${this.path} named "${name}": a name has 1..65535 bytes`, { path: this.path, op: 'createSnapshot' });
      if (this.snapshots.some((s) => s.name === name)) throw new Qcow2Error('invalid-argument', `cannot create snapshot "${name}" of ${this.path}: one with that name exists; delete it first or choose another name`, { path: this.path, op: 'createSnapshot' });
      if (this.snapshots.length >= MAX_SNAPSHOTS) throw new Qcow2Error('too-large', `cannot create snapshot "${name}" of ${this.path}: it already has ${MAX_SNAPSHOTS} snapshots`, { path: this.path, op: 'createSnapshot' });
      // The L1 copy and the new snapshot table (an entry is at most 64 bytes plus its id and name).
      const newClusters = Math.ceil((this.map.l1Size * 8) / this.clusterSize) + Math.ceil((this.snapshotsBytes + 96 + bytes.length) / this.clusterSize);
      await this.withSpace(newClusters, () => this.createSnapshotLocked(name));
    });
  }

  private async createSnapshotLocked(name: string): Promise<void> {
    await this.map.barrier();
    // 1. No cluster of the tree stays exclusive: the copied flags go first (a flag that is clear
    //    while the refcount is still 1 only costs a copy; a set flag on a shared cluster would
    //    let QEMU write into the snapshot), then each path gets one more reference.
    await this.map.clearCopiedFlags();
    await this.file.sync();
    await this.map.adjustTree(this.map.l1Table, this.map.l1Size, +1);
    // 2. A copy of the L1 table, then the new snapshot table, both in new clusters.
    const l1Bytes = Math.ceil((this.map.l1Size * 8) / this.clusterSize) * this.clusterSize;
    const l1Offset = l1Bytes === 0 ? 0 : await this.refcounts.allocate(l1Bytes / this.clusterSize);
    if (l1Bytes > 0) await this.file.writeAt(l1Offset, this.map.l1Table.subarray(0, l1Bytes));
    const now = Date.now();
    const maxId = this.snapshots.reduce((m, s) => Math.max(m, Number.parseInt(s.id, 10) || 0), 0);
    const entry: SnapshotEntry = {
      id: String(maxId + 1), name, l1TableOffset: l1Offset, l1Size: this.map.l1Size, dateSec: Math.floor(now / 1000), dateNsec: (now % 1000) * 1e6,
      vmClockNsec: 0n, vmStateSize: 0, diskSize: this.virtualSize, extra: new Uint8Array(16),
    };
    await this.replaceSnapshotTable([...this.snapshots, entry]);
  }

  /** Makes the disk read as it did when snapshot `name` (a name or id) was taken. */
  revertSnapshot(name: string): Promise<void> {
    this.live('revertSnapshot');
    this.checkWritable('revertSnapshot');
    return this.queue.run(async () => {
      const { snapshot, snapL1 } = await this.openSnapshot(name, 'revertSnapshot');
      const size = snapshot.diskSize ?? this.virtualSize;
      if (!Number.isSafeInteger(size) || size > maxVirtualSize(this.clusterBits)) throw corrupt(this.path, `snapshot "${snapshot.name}" records a disk size of ${size} bytes`, { op: 'revertSnapshot' });
      const l1Size = Math.max(snapshot.l1Size, l1EntriesFor(size, this.clusterBits));
      const table = new Uint8Array(Math.max(1, Math.ceil((l1Size * 8) / this.clusterSize)) * this.clusterSize);
      await this.withSpace(table.length / this.clusterSize, async () => {
        await this.map.adjustTree(snapL1, snapshot.l1Size, +1);
        table.set(snapL1);
        for (let i = 0; i < snapshot.l1Size; i++) setCopiedFlag(table, i, false);
        const old = { table: this.map.l1Table, size: this.map.l1Size };
        await this.map.replaceL1(table, l1Size, size, async () => {
          await this.map.adjustTree(old.table, old.size, -1);
        });
      });
      this.virtualSize = size;
      await this.map.refreshCopiedFlags();
    });
  }

  /** Deletes snapshot `name` (a name or id) and frees the clusters only it used. */
  deleteSnapshot(name: string): Promise<void> {
    this.live('deleteSnapshot');
    this.checkWritable('deleteSnapshot');
    return this.queue.run(async () => {
      const { snapshot, snapL1 } = await this.openSnapshot(name, 'deleteSnapshot');
      await this.withSpace(Math.ceil(this.snapshotsBytes / this.clusterSize), () => this.replaceSnapshotTable(this.snapshots.filter((s) => s !== snapshot)));
      // The header no longer names the snapshot: its references can go.
      await this.map.adjustTree(snapL1, snapshot.l1Size, -1);
      const l1Clusters = Math.ceil((snapshot.l1Size * 8) / this.clusterSize);
      for (let c = 0; c < l1Clusters; c++) await this.refcounts.add(snapshot.l1TableOffset / this.clusterSize + c, -1);
      // Copied flags may be set only once the refcounts that justify them are durable.
      await this.file.sync();
      await this.map.refreshCopiedFlags();
      await this.file.sync();
      await this.trimFreeTail();
    });
  }

  // ---- check ---------------------------------------------------------------------------------

  /** Walks all metadata like `qemu-img check`; with repair, leaked clusters get their refcounts corrected. */
  check(options: { repair?: boolean } = {}): Promise<Qcow2CheckResult> {
    this.live('check');
    if (options.repair) this.checkWritable('check');
    return this.queue.run(async () => {
      if (!this.readOnly) await this.map.barrier();
      const result = await checkQcow2({
        file: this.file, path: this.path, clusterBits: this.clusterBits, version: this.version, refcounts: this.refcounts,
        l1Table: this.map.l1Table, l1Offset: this.map.l1Offset, l1Size: this.map.l1Size, snapshots: this.snapshots,
        snapshotsOffset: this.snapshotsOffset, snapshotsBytes: this.snapshotsBytes,
      }, options.repair === true);
      if (options.repair) await this.file.sync();
      return result;
    });
  }

  // ---- block status --------------------------------------------------------------------------

  /**
   * Where this layer itself holds [offset, offset + length) (whole disk by default), as sorted,
   * merged extents: 'data' (normal or compressed clusters), 'zero' (zero clusters, which hide the
   * backing file), 'unallocated' (reads fall through to the backing file, or zeros without one).
   * Read-only: it changes nothing, so commit and convert can skip what a layer does not hold.
   */
  allocationMap(offset = 0, length = this.virtualSize - offset): Promise<Qcow2Extent[]> {
    this.checkAccess('read', offset, length);
    return this.queue.run(async () => {
      const extents: Qcow2Extent[] = [];
      const add = (start: number, end: number, state: Qcow2Extent['state']): void => {
        const last = extents[extents.length - 1];
        if (last !== undefined && last.state === state && last.offset + last.length === start) last.length += end - start;
        else if (end > start) extents.push({ offset: start, length: end - start, state });
      };
      const end = offset + length;
      const cs = this.clusterSize;
      const perTable = this.map.l2Entries * cs;
      for (let at = offset; at < end; ) {
        const l1Index = Math.floor(at / perTable);
        if (l1Index >= this.map.l1Size || readL1Entry(this.map.l1Table, l1Index).offset === 0) {
          const next = Math.min(end, (l1Index + 1) * perTable);
          add(at, next, 'unallocated');
          at = next;
          continue;
        }
        const cluster = Math.floor(at / cs);
        const next = Math.min(end, (cluster + 1) * cs);
        const entry = this.map.lookupCached(cluster) ?? (await this.map.lookup(cluster));
        add(at, next, entry.type === 'normal' || entry.type === 'compressed' ? 'data' : entry.type);
        at = next;
      }
      return extents;
    });
  }

  // ---- internals -----------------------------------------------------------------------------

  private async readLocked(offset: number, into: Uint8Array): Promise<void> {
    // Clusters that follow one another in the file are read with one call.
    let run: { host: number; start: number; end: number } | null = null;
    const flushRun = async (): Promise<void> => {
      if (run === null) return;
      const part = into.subarray(run.start, run.end);
      const n = await this.file.readAt(run.host, part);
      part.fill(0, n);
      run = null;
    };
    for (let done = 0; done < into.length; ) {
      const at = offset + done;
      const inCluster = at % this.clusterSize;
      const n = Math.min(this.clusterSize - inCluster, into.length - done);
      const cluster = Math.floor(at / this.clusterSize);
      const entry = this.map.lookupCached(cluster) ?? (await this.map.lookup(cluster));
      if (entry.type === 'normal') {
        this.checkDataCluster(entry, cluster);
        const host = entry.offset + inCluster;
        if (run !== null && run.host + (run.end - run.start) === host) run.end += n;
        else {
          await flushRun();
          run = { host, start: done, end: done + n };
        }
      } else {
        await flushRun();
        await this.readEntry(cluster, entry, inCluster, into.subarray(done, done + n));
      }
      done += n;
    }
    await flushRun();
  }

  /** Reads guest bytes of `cluster` (described by `entry`) at `inCluster` into `part`. */
  private async readEntry(cluster: number, entry: L2Entry, inCluster: number, part: Uint8Array): Promise<void> {
    switch (entry.type) {
      case 'unallocated':
        await this.readBacking(cluster * this.clusterSize + inCluster, part);
        return;
      case 'zero':
        part.fill(0);
        return;
      case 'normal': {
        this.checkDataCluster(entry, cluster);
        const n = await this.file.readAt(entry.offset + inCluster, part);
        part.fill(0, n);
        return;
      }
      case 'compressed':
        part.set((await this.decompress(entry, cluster)).subarray(inCluster, inCluster + part.length));
    }
  }

  private checkDataCluster(entry: { offset: number; reserved: boolean }, cluster: number): void {
    if (entry.offset % this.clusterSize !== 0 || entry.offset >= this.file.size || entry.reserved) {
      throw corrupt(this.path, `guest cluster ${cluster} maps to host offset ${entry.offset}, which is misaligned, has reserved bits set or lies past the end of the file`, { op: 'read', offset: cluster * this.clusterSize });
    }
  }

  private async decompress(entry: { offset: number; sectors: number }, cluster: number): Promise<Uint8Array> {
    const length = entry.sectors * 512 - (entry.offset % 512);
    if (entry.offset + length > this.file.size + 512 || entry.offset < this.clusterSize) {
      throw corrupt(this.path, `compressed guest cluster ${cluster} at host offset ${entry.offset} lies outside the file`, { op: 'read', offset: cluster * this.clusterSize });
    }
    const compressed = new Uint8Array(length);
    await this.file.readAt(entry.offset, compressed);
    let out: Buffer;
    try {
      out = inflateRawSync(compressed, { maxOutputLength: this.clusterSize, finishFlush: 2 /* Z_SYNC_FLUSH: trailing bytes of the last sector are ignored */ });
    } catch (cause) {
      throw new Qcow2Error('corrupt', `qcow2 image ${this.path} is corrupt: compressed guest cluster ${cluster} does not inflate: ${(cause as Error).message}`, { path: this.path, op: 'read', offset: cluster * this.clusterSize }, { cause });
    }
    if (out.length !== this.clusterSize) throw corrupt(this.path, `compressed guest cluster ${cluster} inflates to ${out.length} bytes instead of ${this.clusterSize}`, { op: 'read', offset: cluster * this.clusterSize });
    return out;
  }

  private async readBacking(offset: number, into: Uint8Array): Promise<void> {
    const backing = this.backing;
    const inBacking = backing === null ? 0 : Math.max(0, Math.min(into.length, backing.size - offset));
    if (backing !== null && inBacking > 0) await backing.read(offset, into.subarray(0, inBacking));
    into.fill(0, inBacking);
  }

  /**
   * Writes `data` at `offset` in batches within one L2 table: clusters owned by the active disk
   * alone are written in place; the others get one run of new clusters (the rest of a partial
   * cluster copied from what it read as before), and after one sync the L2 entries point to them.
   */
  private async writeRange(offset: number, data: Uint8Array): Promise<void> {
    const cs = this.clusterSize;
    for (let done = 0; done < data.length; ) {
      const first = Math.floor((offset + done) / cs);
      const tableEnd = (Math.floor(first / this.map.l2Entries) + 1) * this.map.l2Entries * cs - offset;
      const batchEnd = Math.min(data.length, tableEnd, done + MAX_WRITE_BATCH);
      const needed = this.space === null ? 0 : await this.clustersToAllocate(offset + done, offset + batchEnd);
      await this.withSpace(needed, () => this.writeBatch(offset, data, done, batchEnd));
      done = batchEnd;
    }
  }

  /** Writes data[done, batchEnd) (within one L2 table) at offset + done. */
  private async writeBatch(offset: number, data: Uint8Array, done: number, batchEnd: number): Promise<void> {
    const cs = this.clusterSize;
    const first = Math.floor((offset + done) / cs);
    const l2 = await this.map.l2ForWrite(first);
    const fresh: Array<{ index: number; cluster: number; inCluster: number; piece: Uint8Array; old: L2Entry }> = [];
    for (; done < batchEnd; ) {
      const at = offset + done;
      const inCluster = at % cs;
      const n = Math.min(cs - inCluster, batchEnd - done);
      const cluster = Math.floor(at / cs);
      const index = cluster % this.map.l2Entries;
      const piece = data.subarray(done, done + n);
      done += n;
      const entry = readL2Entry(l2.table, index, this.clusterBits, this.version);
      if (entry.type === 'normal') {
        this.checkDataCluster(entry, cluster);
        const refcount = this.refcounts.peek(entry.offset / cs) ?? (await this.refcounts.get(entry.offset / cs));
        if (refcount === 0) throw corrupt(this.path, `guest cluster ${cluster} maps to host cluster ${entry.offset}, which has refcount 0`, { op: 'write', offset: entry.offset });
        if (refcount === 1) {
          await this.file.writeAt(entry.offset + inCluster, piece);
          continue;
        }
      }
      fresh.push({ index, cluster, inCluster, piece, old: entry });
    }
    if (fresh.length === 0) return;
    const host = await this.refcounts.allocate(fresh.length);
    const buffer = new Uint8Array(fresh.length * cs);
    for (let i = 0; i < fresh.length; i++) {
      const { cluster, inCluster, piece, old } = fresh[i]!;
      const slot = buffer.subarray(i * cs, (i + 1) * cs);
      if (piece.length !== cs) await this.readEntry(cluster, old, 0, slot);
      slot.set(piece, inCluster);
    }
    await this.file.writeAt(host, buffer);
    await this.map.barrier();
    for (let i = 0; i < fresh.length; i++) writeEntry(l2.table, fresh[i]!.index, host + i * cs, true);
    const low = fresh[0]!.index;
    const high = fresh[fresh.length - 1]!.index + 1;
    await this.file.writeAt(l2.offset + low * 8, l2.table.subarray(low * 8, high * 8));
    for (const update of fresh) this.map.release(update.old);
  }

  /** How many clusters writing guest bytes [from, to) (within one L2 table) allocates: new data clusters and a new L2 table. */
  private async clustersToAllocate(from: number, to: number): Promise<number> {
    const cs = this.clusterSize;
    let count = (await this.map.needsNewL2(Math.floor(from / cs))) ? 1 : 0;
    for (let cluster = Math.floor(from / cs); cluster * cs < to; cluster++) {
      const entry = this.map.lookupCached(cluster) ?? (await this.map.lookup(cluster));
      if (entry.type === 'normal' && (this.refcounts.peek(entry.offset / cs) ?? (await this.refcounts.get(entry.offset / cs))) === 1) continue;
      count++;
    }
    return count;
  }

  /** Runs `body` with room for `clusters` new clusters reserved from the space guard (if any). */
  private async withSpace<T>(clusters: number, body: () => Promise<T>): Promise<T> {
    const guard = this.space;
    if (guard === null || clusters === 0) return body();
    const bytes = this.refcounts.growthBound(clusters);
    guard.reserve(bytes);
    try {
      return await body();
    } finally {
      guard.release(bytes);
    }
  }

  /**
   * Gives back free clusters at the end of the file by truncating it. Free clusters in the middle
   * stay in the file (and are reused first): punching holes needs fallocate(PUNCH_HOLE), which
   * Node cannot call without a native addon.
   */
  private async trimFreeTail(): Promise<void> {
    const cs = this.clusterSize;
    let end = Math.ceil(this.file.size / cs);
    while (end > 1 && (this.refcounts.peek(end - 1) ?? (await this.refcounts.get(end - 1))) === 0 && this.metadataAt((end - 1) * cs, cs) === null) end--;
    if (end * cs >= this.file.size) return;
    // The refcounts that freed these clusters must be durable before the clusters disappear.
    await this.file.sync();
    await this.file.truncate(end * cs);
  }

  private async zeroLocked(offset: number, length: number): Promise<void> {
    const noBacking = this.backing === null;
    for (let done = 0; done < length; ) {
      const at = offset + done;
      const inCluster = at % this.clusterSize;
      const n = Math.min(this.clusterSize - inCluster, length - done);
      const cluster = Math.floor(at / this.clusterSize);
      done += n;
      const entry = await this.map.lookup(cluster);
      const readsZero = entry.type === 'zero' || (entry.type === 'unallocated' && noBacking);
      if (readsZero && (entry.type !== 'zero' || entry.offset === 0)) continue;
      const whole = n === this.clusterSize || (inCluster === 0 && at + n === this.virtualSize);
      if (!whole || (this.version === 2 && !noBacking)) {
        // Version 2 has no zero flag: over a backing file, zeros must be written out.
        if (!readsZero) await this.writeRange(at, new Uint8Array(n));
        continue;
      }
      await this.withSpace((await this.map.needsNewL2(cluster)) ? 1 : 0, async () => {
        const l2 = await this.map.l2ForWrite(cluster);
        const current = readL2Entry(l2.table, l2.index, this.clusterBits, this.version);
        await this.map.setL2Entry(l2, 0, false, !noBacking);
        this.map.release(current);
      });
    }
    await this.map.barrier();
    await this.trimFreeTail();
  }

  /** Writes `entries` as a new snapshot table, switches the header to it, and frees the old one. */
  private async replaceSnapshotTable(entries: SnapshotEntry[]): Promise<void> {
    const bytes = encodeSnapshotTable(entries);
    let offset = 0;
    if (entries.length > 0) {
      const clusters = Math.ceil(bytes.length / this.clusterSize);
      offset = await this.refcounts.allocate(clusters);
      const padded = new Uint8Array(clusters * this.clusterSize);
      padded.set(bytes);
      await this.file.writeAt(offset, padded);
    }
    await this.file.sync();
    const field = new Uint8Array(12);
    new DataView(field.buffer).setUint32(0, entries.length);
    new DataView(field.buffer).setBigUint64(4, BigInt(offset));
    await this.file.writeAt(HEADER_SNAPSHOTS_FIELD, field);
    await this.file.sync();
    const old = { offset: this.snapshotsOffset, clusters: this.snapshots.length > 0 ? Math.ceil(this.snapshotsBytes / this.clusterSize) : 0 };
    this.snapshots = entries;
    this.snapshotsOffset = offset;
    this.snapshotsBytes = bytes.length;
    for (let c = 0; c < old.clusters; c++) await this.refcounts.add(old.offset / this.clusterSize + c, -1);
  }

  /** The header or table that [offset, offset + length) overlaps, or null (a guard for allocation). */
  private metadataAt(offset: number, length: number): string | null {
    const [tableFirst, tableClusters] = this.refcounts.tableClusters;
    const regions: Array<[string, number, number]> = [
      ['header', 0, this.clusterSize],
      ['L1 table', this.map.l1Offset, this.map.l1Size * 8],
      ['refcount table', tableFirst * this.clusterSize, tableClusters * this.clusterSize],
      ['snapshot table', this.snapshotsOffset, this.snapshots.length > 0 ? this.snapshotsBytes : 0],
    ];
    for (const [name, start, bytes] of regions) if (bytes > 0 && offset < start + bytes && start < offset + length) return name;
    return null;
  }

  /** The snapshot `name` and its L1 table, once earlier writes are durable. */
  private async openSnapshot(name: string, op: string): Promise<{ snapshot: SnapshotEntry; snapL1: Uint8Array }> {
    const snapshot = this.findSnapshot(name, op);
    await this.map.barrier();
    const snapL1 = new Uint8Array(snapshot.l1Size * 8);
    await this.file.readExact(snapshot.l1TableOffset, snapL1, `L1 table of snapshot ${snapshot.name}`);
    return { snapshot, snapL1 };
  }

  private findSnapshot(name: string, op: string): SnapshotEntry {
    const found = this.snapshots.find((s) => s.name === name) ?? this.snapshots.find((s) => s.id === name);
    if (found === undefined) {
      const known = this.snapshots.map((s) => s.name).join(', ') || 'none';
      throw new Qcow2Error('not-found', `${this.path} has no snapshot named "${name}" (it has: ${known})`, { path: this.path, op });
    }
    return found;
  }

  private live(op: string): void {
    if (this.closed) throw new Qcow2Error('closed', `cannot ${op} ${this.path}: the image was closed`, { path: this.path, op });
  }

  private checkWritable(op: string): void {
    if (this.readOnly) throw new Qcow2Error('read-only', `cannot ${op} ${this.path}: it is open read-only`, { path: this.path, op });
  }

  private checkAccess(op: string, offset: number, length: number): void {
    this.live(op);
    if (op !== 'read') this.checkWritable(op);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.virtualSize) {
      throw new Qcow2Error('out-of-range', `cannot ${op} ${length} bytes at offset ${offset} of ${this.path}: the disk has ${this.virtualSize} bytes`, { path: this.path, op, offset, length });
    }
  }
}

/** Validates magic, version and cluster_bits from the first bytes, so the header cluster can be read. */
function parseFirstBits(first: Uint8Array): number {
  if (first.length < 24 || new DataView(first.buffer, first.byteOffset).getUint32(0) !== QCOW2_MAGIC) {
    return MIN_CLUSTER_BITS; // parseQcow2Header explains what is wrong
  }
  const bits = new DataView(first.buffer, first.byteOffset).getUint32(20);
  return bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS ? bits : MIN_CLUSTER_BITS;
}

const openQcow2Backing: OpenQcow2Backing = (file, chain) => Qcow2Image.fromFile(file, { readOnly: true }, chain);

async function openImage(path: string, options: Qcow2OpenOptions, chain: string[]): Promise<Qcow2Image> {
  const file = await ImageFile.open(path, options.readOnly ?? false);
  try {
    return await Qcow2Image.fromFile(file, options, chain);
  } catch (e) {
    await file.close();
    throw e;
  }
}


