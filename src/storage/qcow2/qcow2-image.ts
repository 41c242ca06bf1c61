// A qcow2 disk image (versions 2 and 3): thin allocation, copy-on-write from a backing file and
// between internal snapshots, compressed and zero clusters, discard with cluster reuse.
// This class checks access and queues requests; the work is done by open-qcow2.ts (opening and
// validation), cluster-reader.ts (reads), cluster-writer.ts (writes, zeroing, space reservation),
// qcow2-snapshots.ts (internal snapshots), cluster-map.ts (L1/L2 tables, deferred frees) and
// refcount-table.ts (refcounts and allocation).
//
// Every request runs through one queue, so metadata updates never interleave.
//
// Write ordering (what makes a SIGKILL or power loss at any moment leave at most leaked
// clusters, never a reference to a cluster whose refcount is 0 or whose data was not written):
//   1. A new cluster's refcount is written (refcount-table.ts syncs a new refcount block before
//      the table entry that points to it), then the cluster's data (or a new table) is written.
//   2. fdatasync (ClusterMap.barrier()).
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

import type { BackingImage } from './backing-image.js';
import { type OpenQcow2Backing, openBacking } from './backing-chain.js';
import { ClusterMap } from './cluster-map.js';
import { ClusterReader } from './cluster-reader.js';
import { ClusterWriter } from './cluster-writer.js';
import { ImageFile } from './image-file.js';
import { type Qcow2CheckResult, checkQcow2 } from './check-qcow2.js';
import { type OpenedQcow2, openQcow2 } from './open-qcow2.js';
import type { Qcow2Context } from './qcow2-context.js';
import { Qcow2Error } from './qcow2-error.js';
import { HEADER_SIZE_FIELD, MAX_CLUSTER_BITS, MIN_CLUSTER_BITS, l1EntriesFor, maxVirtualSize } from './qcow2-header.js';
import { Qcow2Snapshots } from './qcow2-snapshots.js';
import type { RefcountTable } from './refcount-table.js';
import { SerialQueue } from './serial-queue.js';
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

export class Qcow2Image implements BackingImage {
  readonly path: string;
  readonly readOnly: boolean;
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  /** The backing file name as stored in the header, or null. */
  readonly backingFile: string | null;
  private readonly ctx: Qcow2Context;
  private readonly file: ImageFile;
  private readonly refcounts: RefcountTable;
  private readonly map: ClusterMap;
  private readonly backing: BackingImage | null;
  private readonly reader: ClusterReader;
  private readonly writer: ClusterWriter;
  private readonly snapshots: Qcow2Snapshots;
  private readonly queue = new SerialQueue();
  private closed = false;

  private constructor(init: OpenedQcow2) {
    this.path = init.path;
    this.readOnly = init.readOnly;
    this.version = init.version;
    this.clusterBits = init.clusterBits;
    this.clusterSize = 2 ** init.clusterBits;
    this.file = init.file;
    this.refcounts = init.refcounts;
    this.backing = init.backing;
    this.backingFile = init.backingFile;
    this.map = new ClusterMap({
      path: init.path, file: init.file, refcounts: init.refcounts, clusterBits: init.clusterBits, version: init.version,
      l1Table: init.l1Table, l1Offset: init.l1Offset, l1Size: init.l1Size, l2CacheTables: init.l2CacheTables,
    });
    this.ctx = {
      path: init.path, version: init.version, clusterBits: init.clusterBits, clusterSize: this.clusterSize, file: init.file,
      refcounts: init.refcounts, map: this.map, backing: init.backing, space: init.space, size: init.size,
    };
    this.reader = new ClusterReader(this.ctx);
    this.writer = new ClusterWriter(this.ctx, this.reader, (offset, length) => this.metadataAt(offset, length));
    this.snapshots = new Qcow2Snapshots(this.ctx, this.writer, init.snapshots);
  }

  /** The virtual disk size in bytes. */
  get size(): number {
    return this.ctx.size;
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
    const opened = await openQcow2(file, options, chain, openQcow2Backing);
    const image = new Qcow2Image(opened);
    opened.refcounts.inUse = (offset, length) => image.metadataAt(offset, length);
    return image;
  }

  // ---- data path -------------------------------------------------------------------------

  /** Fills `into` with the guest bytes at [offset, offset + into.length). */
  read(offset: number, into: Uint8Array): Promise<void> {
    this.checkAccess('read', offset, into.length);
    return this.queue.run(() => this.reader.read(offset, into));
  }

  /** Stores `data` at `offset`, allocating clusters on first write. */
  write(offset: number, data: Uint8Array): Promise<void> {
    this.checkAccess('write', offset, data.length);
    return this.queue.run(() => this.writer.write(offset, data));
  }

  /** Makes [offset, offset + length) read as zeros; whole clusters become zero clusters and give their space back. */
  writeZeroes(offset: number, length: number): Promise<void> {
    this.checkAccess('writeZeroes', offset, length);
    return this.queue.run(() => this.writer.zero(offset, length));
  }

  /** Deallocates [offset, offset + length): it reads as zeros, and freed clusters are reused. */
  discard(offset: number, length: number): Promise<void> {
    this.checkAccess('discard', offset, length);
    return this.queue.run(() => this.writer.zero(offset, length));
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
      if (newSize < this.ctx.size) {
        throw new Qcow2Error('invalid-argument', `cannot shrink ${this.path} from ${this.ctx.size} to ${newSize} bytes: shrinking would lose data and is not supported; copy the data to a smaller image instead`, { path: this.path, op: 'resize' });
      }
      await this.map.barrier();
      const needed = l1EntriesFor(newSize, this.clusterBits);
      if (needed <= this.map.l1Size) {
        const field = new Uint8Array(8);
        new DataView(field.buffer).setBigUint64(0, BigInt(newSize));
        await this.file.writeAt(HEADER_SIZE_FIELD, field);
        await this.file.sync();
        this.ctx.size = newSize;
        return;
      }
      const table = new Uint8Array(Math.ceil((needed * 8) / this.clusterSize) * this.clusterSize);
      table.set(this.map.l1Table.subarray(0, this.map.l1Size * 8));
      await this.writer.withSpace(table.length / this.clusterSize, () => this.map.replaceL1(table, needed, newSize));
      this.ctx.size = newSize;
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
    return this.snapshots.list();
  }

  /** Records the current disk contents as internal snapshot `name`. */
  createSnapshot(name: string): Promise<void> {
    this.live('createSnapshot');
    this.checkWritable('createSnapshot');
    return this.queue.run(() => this.snapshots.create(name));
  }

  /** Makes the disk read as it did when snapshot `name` (a name or id) was taken. */
  revertSnapshot(name: string): Promise<void> {
    this.live('revertSnapshot');
    this.checkWritable('revertSnapshot');
    return this.queue.run(() => this.snapshots.revert(name));
  }

  /** Deletes snapshot `name` (a name or id) and frees the clusters only it used. */
  deleteSnapshot(name: string): Promise<void> {
    this.live('deleteSnapshot');
    this.checkWritable('deleteSnapshot');
    return this.queue.run(() => this.snapshots.delete(name));
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
        l1Table: this.map.l1Table, l1Offset: this.map.l1Offset, l1Size: this.map.l1Size, snapshots: this.snapshots.entries,
        snapshotsOffset: this.snapshots.offset, snapshotsBytes: this.snapshots.bytes,
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
  allocationMap(offset = 0, length = this.ctx.size - offset): Promise<Qcow2Extent[]> {
    this.checkAccess('read', offset, length);
    return this.queue.run(() => this.reader.allocationMap(offset, length));
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The header or table that [offset, offset + length) overlaps, or null (a guard for allocation). */
  private metadataAt(offset: number, length: number): string | null {
    const [tableFirst, tableClusters] = this.refcounts.tableClusters;
    const regions: Array<[string, number, number]> = [
      ['header', 0, this.clusterSize],
      ['L1 table', this.map.l1Offset, this.map.l1Size * 8],
      ['refcount table', tableFirst * this.clusterSize, tableClusters * this.clusterSize],
      ['snapshot table', this.snapshots.offset, this.snapshots.entries.length > 0 ? this.snapshots.bytes : 0],
    ];
    for (const [name, start, bytes] of regions) if (bytes > 0 && offset < start + bytes && start < offset + length) return name;
    return null;
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
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.ctx.size) {
      throw new Qcow2Error('out-of-range', `cannot ${op} ${length} bytes at offset ${offset} of ${this.path}: the disk has ${this.ctx.size} bytes`, { path: this.path, op, offset, length });
    }
  }
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
