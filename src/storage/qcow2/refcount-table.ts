// Cluster reference counts (qcow2 spec, "Cluster refcounts"): the refcount table in memory,
// refcount blocks in a bounded cache, written through to the file on every change; cluster
// allocation (first fit from a hint, so freed clusters are reused) and table growth.
//
// Ordering: a new refcount block is written and synced before the table entry that points at
// it; a grown table is written and synced before the header points at it, and the old table is
// freed only after that. A crash therefore leaves at most unreferenced (leaked) clusters.

import type { ImageFile } from './image-file.js';
import { HEADER_REFCOUNT_TABLE_FIELD, MAX_REFCOUNT_TABLE_BYTES } from './qcow2-header.js';
import { Qcow2Error, corrupt } from './qcow2-error.js';
import { TableCache } from './table-cache.js';

export class RefcountTable {
  private readonly file: ImageFile;
  private readonly clusterSize: number;
  private readonly refcountBits: number;
  /** Refcounts one block holds, and so clusters one table entry covers. */
  readonly entriesPerBlock: number;
  private readonly maxRefcount: number;
  private table: Uint8Array;
  private tableOffset: number;
  private readonly blocks: TableCache;
  /** No cluster below this index is free. */
  private freeHint = 0;
  /**
   * Names the metadata (header, tables) that a byte range overlaps, or returns null; a free
   * cluster found there means the refcounts are corrupt, and allocation refuses it.
   */
  inUse: ((offset: number, length: number) => string | null) | null = null;

  constructor(file: ImageFile, clusterBits: number, refcountOrder: number, table: Uint8Array, tableOffset: number, cacheBlocks: number) {
    this.file = file;
    this.clusterSize = 2 ** clusterBits;
    this.refcountBits = 2 ** refcountOrder;
    this.entriesPerBlock = (this.clusterSize * 8) / this.refcountBits;
    this.maxRefcount = Math.min(2 ** this.refcountBits - 1, Number.MAX_SAFE_INTEGER);
    this.table = table;
    this.tableOffset = tableOffset;
    this.blocks = new TableCache(cacheBlocks);
  }

  static async load(file: ImageFile, clusterBits: number, refcountOrder: number, tableOffset: number, tableClusters: number, cacheBlocks = 16): Promise<RefcountTable> {
    const table = new Uint8Array(tableClusters * 2 ** clusterBits);
    await file.readExact(tableOffset, table, 'refcount table');
    return new RefcountTable(file, clusterBits, refcountOrder, table, tableOffset, cacheBlocks);
  }

  get tableEntries(): number {
    return this.table.length / 8;
  }

  /** Where the table lives, in clusters: [first cluster index, cluster count]. */
  get tableClusters(): [number, number] {
    return [this.tableOffset / this.clusterSize, this.table.length / this.clusterSize];
  }

  /**
   * The most the file can grow while `count` more clusters are allocated (in a few allocations):
   * the clusters themselves, refcount blocks for them, and a grown refcount table.
   */
  growthBound(count: number): number {
    const per = this.entriesPerBlock;
    const fileClusters = Math.ceil(this.file.size / this.clusterSize);
    let clusters = count + Math.ceil(count / per) + 2;
    if (fileClusters + clusters > this.tableEntries * per) {
      const entries = Math.max(this.tableEntries * 2, Math.ceil((fileClusters + clusters) / per) + 1);
      const tableClusters = Math.ceil((entries * 8) / this.clusterSize);
      clusters += tableClusters + Math.ceil((fileClusters + clusters + tableClusters) / per) + 1;
    }
    return clusters * this.clusterSize;
  }

  /** The host offset of refcount block `index` (0: none); throws 'corrupt' for one outside the file. */
  blockOffset(index: number): number {
    if (index >= this.tableEntries) return 0;
    const view = new DataView(this.table.buffer, this.table.byteOffset + index * 8, 8);
    const offset = Number(view.getBigUint64(0) & ~0x1ffn);
    if (offset === 0) return 0;
    if (offset % this.clusterSize !== 0 || offset + this.clusterSize > this.file.size) {
      throw corrupt(this.file.path, `refcount block ${index} at ${offset} is misaligned or past the end of the file`, { offset });
    }
    return offset;
  }

  /** The refcount of `cluster` if its block is cached (or absent), without waiting; undefined otherwise. */
  peek(cluster: number): number | undefined {
    const block = this.cachedBlock(Math.floor(cluster / this.entriesPerBlock));
    if (block === undefined) return undefined;
    return block === null ? 0 : this.readEntry(block.table, cluster % this.entriesPerBlock);
  }

  async get(cluster: number): Promise<number> {
    const block = await this.block(Math.floor(cluster / this.entriesPerBlock));
    return block === null ? 0 : this.readEntry(block.table, cluster % this.entriesPerBlock);
  }

  /** Sets the refcount of `cluster`, creating its refcount block if needed. */
  async set(cluster: number, value: number): Promise<void> {
    if (value < 0 || value > this.maxRefcount) {
      throw new Qcow2Error(value < 0 ? 'corrupt' : 'too-large', `cannot set the refcount of cluster ${cluster} of ${this.file.path} to ${value}: it must lie in 0..${this.maxRefcount}${value < 0 ? '; the image is corrupt, check it with qemu-img check' : ''}`, { path: this.file.path, op: 'refcount', offset: cluster * this.clusterSize });
    }
    const index = Math.floor(cluster / this.entriesPerBlock);
    for (;;) {
      const block = await this.block(index);
      if (block !== null) {
        const byte = this.writeEntry(block.table, cluster % this.entriesPerBlock, value);
        await this.file.writeAt(block.offset + byte.start, block.table.subarray(byte.start, byte.end));
        if (value === 0 && cluster < this.freeHint) this.freeHint = cluster;
        return;
      }
      if (value === 0) return;
      await this.provideBlock(index, cluster, 1);
    }
  }

  /** Sets the refcounts of clusters [start, start + count), whose blocks exist, with one write per block. */
  private async setRun(start: number, count: number, value: number): Promise<void> {
    for (let at = start; at < start + count; ) {
      const index = Math.floor(at / this.entriesPerBlock);
      const end = Math.min(start + count, (index + 1) * this.entriesPerBlock);
      const block = await this.block(index);
      if (block === null) throw new Error(`refcount block ${index} vanished during allocation`);
      let low = Infinity;
      let high = 0;
      for (let c = at; c < end; c++) {
        const range = this.writeEntry(block.table, c % this.entriesPerBlock, value);
        low = Math.min(low, range.start);
        high = Math.max(high, range.end);
      }
      await this.file.writeAt(block.offset + low, block.table.subarray(low, high));
      at = end;
    }
  }

  /**
   * Adds each delta to its cluster's refcount, with one write per refcount block; returns the
   * clusters whose refcount fell to 0. The refcounts are checked before anything is written.
   */
  async addMany(deltas: ReadonlyMap<number, number>): Promise<number[]> {
    const byBlock = new Map<number, number[]>();
    for (const cluster of deltas.keys()) {
      const index = Math.floor(cluster / this.entriesPerBlock);
      const list = byBlock.get(index);
      if (list === undefined) byBlock.set(index, [cluster]);
      else list.push(cluster);
    }
    const freed: number[] = [];
    for (const [index, clusters] of byBlock) {
      const block = await this.block(index);
      const values = clusters.map((c) => (block === null ? 0 : this.readEntry(block.table, c % this.entriesPerBlock)) + deltas.get(c)!);
      const bad = values.findIndex((v) => v < 0 || v > this.maxRefcount);
      if (bad >= 0) {
        throw corrupt(this.file.path, `the refcount of cluster ${clusters[bad]} would become ${values[bad]}`, { op: 'refcount', offset: clusters[bad]! * this.clusterSize });
      }
      if (block === null) {
        for (let i = 0; i < clusters.length; i++) if (values[i]! > 0) await this.set(clusters[i]!, values[i]!);
        continue;
      }
      let low = Infinity;
      let high = 0;
      for (let i = 0; i < clusters.length; i++) {
        const range = this.writeEntry(block.table, clusters[i]! % this.entriesPerBlock, values[i]!);
        low = Math.min(low, range.start);
        high = Math.max(high, range.end);
        if (values[i] === 0) {
          freed.push(clusters[i]!);
          if (clusters[i]! < this.freeHint) this.freeHint = clusters[i]!;
        }
      }
      await this.file.writeAt(block.offset + low, block.table.subarray(low, high));
    }
    return freed;
  }

  /** Adds `delta` to the refcount of `cluster`; returns the new refcount. */
  async add(cluster: number, delta: number): Promise<number> {
    const value = (await this.get(cluster)) + delta;
    if (value < 0) throw corrupt(this.file.path, `cluster ${cluster} is freed more often than it is referenced`, { op: 'refcount', offset: cluster * this.clusterSize });
    await this.set(cluster, value);
    return value;
  }

  /** Allocates `count` contiguous clusters with refcount 1; returns the host offset of the first. */
  async allocate(count: number): Promise<number> {
    for (;;) {
      const start = await this.findFree(count, this.freeHint, -1, 0);
      const first = Math.floor(start / this.entriesPerBlock);
      const last = Math.floor((start + count - 1) / this.entriesPerBlock);
      let missing = -1;
      for (let index = first; index <= last && missing < 0; index++) if (this.blockOffset(index) === 0) missing = index;
      if (missing >= 0) {
        await this.provideBlock(missing, start, count);
        continue;
      }
      const clash = this.inUse?.(start * this.clusterSize, count * this.clusterSize);
      if (clash) throw corrupt(this.file.path, `cluster ${start} has refcount 0 but holds the ${clash}; allocating it would overwrite metadata`, { op: 'allocate', offset: start * this.clusterSize });
      await this.setRun(start, count, 1);
      if (start === this.freeHint) this.freeHint = start + count;
      return start * this.clusterSize;
    }
  }

  /** The first run of `count` free clusters at or after `from` that avoids [avoid, avoid + avoidCount). */
  private async findFree(count: number, from: number, avoid: number, avoidCount: number): Promise<number> {
    let run = 0;
    for (let i = from; ; i++) {
      if (i >= avoid && i < avoid + avoidCount) {
        i = avoid + avoidCount - 1;
        run = 0;
        continue;
      }
      const index = Math.floor(i / this.entriesPerBlock);
      // Awaiting only on a cache miss keeps this loop cheap (it can visit many clusters).
      const block = this.cachedBlock(index) ?? (await this.block(index));
      if (block === null) {
        // A missing block: its whole range is free.
        const end = (Math.floor(i / this.entriesPerBlock) + 1) * this.entriesPerBlock;
        const stop = avoid >= i && avoid < end ? avoid : end;
        if (run + (stop - i) >= count) return i - run;
        run += stop - i;
        i = stop - 1;
        continue;
      }
      run = this.readEntry(block.table, i % this.entriesPerBlock) === 0 ? run + 1 : 0;
      if (run === count) return i - count + 1;
    }
  }

  /**
   * Makes progress towards a refcount block for table entry `index`: creates it, or first the
   * block or table growth that placing it needs. Clusters [avoid, avoid + count) stay untouched.
   */
  private async provideBlock(index: number, avoid: number, count: number): Promise<void> {
    if (index >= this.tableEntries) {
      await this.grow(index);
      return;
    }
    const at = await this.findFree(1, this.freeHint, avoid, count);
    const atIndex = Math.floor(at / this.entriesPerBlock);
    const block = new Uint8Array(this.clusterSize);
    if (atIndex === index) {
      // The block describes itself: the common case as the file grows into a new range.
      this.writeEntry(block, at % this.entriesPerBlock, 1);
    } else if (atIndex < this.tableEntries && this.blockOffset(atIndex) !== 0) {
      await this.set(at, 1);
    } else {
      await this.provideBlock(atIndex, avoid, count);
      return;
    }
    await this.file.writeAt(at * this.clusterSize, block);
    await this.file.sync();
    this.blocks.set(at * this.clusterSize, block);
    await this.writeTableEntry(index, at * this.clusterSize);
  }

  /** Replaces the table with a larger one placed past the end of the file, with blocks that describe it. */
  private async grow(neededIndex: number): Promise<void> {
    const cs = this.clusterSize;
    const per = this.entriesPerBlock;
    const start = Math.max(this.tableEntries * per, Math.ceil(this.file.size / cs));
    const firstRange = Math.floor(start / per);
    let blocks = 1;
    let tableClusters = 1;
    let entries = 0;
    for (let round = 0; round < 64; round++) {
      const lastRange = Math.floor((start + blocks + tableClusters - 1) / per);
      entries = Math.max(lastRange + 1, neededIndex + 1, this.tableEntries * 2);
      const nextBlocks = lastRange - firstRange + 1;
      const nextTable = Math.ceil((entries * 8) / cs);
      if (nextBlocks === blocks && nextTable === tableClusters) break;
      blocks = nextBlocks;
      tableClusters = nextTable;
    }
    if (tableClusters * cs > MAX_REFCOUNT_TABLE_BYTES) {
      throw new Qcow2Error('too-large', `cannot grow ${this.file.path}: its refcount table would exceed ${MAX_REFCOUNT_TABLE_BYTES} bytes; use larger clusters`, { path: this.file.path, op: 'allocate' });
    }
    const table = new Uint8Array(tableClusters * cs);
    table.set(this.table);
    const tableView = new DataView(table.buffer);
    const blockTables: Uint8Array[] = [];
    for (let b = 0; b < blocks; b++) {
      blockTables.push(new Uint8Array(cs));
      tableView.setBigUint64((firstRange + b) * 8, BigInt((start + b) * cs));
    }
    for (let c = start; c < start + blocks + tableClusters; c++) this.writeEntry(blockTables[Math.floor(c / per) - firstRange]!, c % per, 1);
    for (let b = 0; b < blocks; b++) await this.file.writeAt((start + b) * cs, blockTables[b]!);
    await this.file.writeAt((start + blocks) * cs, table);
    await this.file.sync();
    const field = new Uint8Array(12);
    new DataView(field.buffer).setBigUint64(0, BigInt((start + blocks) * cs));
    new DataView(field.buffer).setUint32(8, tableClusters);
    await this.file.writeAt(HEADER_REFCOUNT_TABLE_FIELD, field);
    await this.file.sync();
    const [oldFirst, oldCount] = this.tableClusters;
    this.table = table;
    this.tableOffset = (start + blocks) * cs;
    for (let b = 0; b < blocks; b++) this.blocks.set((start + b) * cs, blockTables[b]!);
    for (let c = oldFirst; c < oldFirst + oldCount; c++) await this.add(c, -1);
  }

  private async writeTableEntry(index: number, offset: number): Promise<void> {
    new DataView(this.table.buffer, this.table.byteOffset).setBigUint64(index * 8, BigInt(offset));
    await this.file.writeAt(this.tableOffset + index * 8, this.table.subarray(index * 8, index * 8 + 8));
  }

  /** The block if it is cached, null if there is none, undefined if it must be read. */
  private cachedBlock(index: number): { offset: number; table: Uint8Array } | null | undefined {
    const offset = this.blockOffset(index);
    if (offset === 0) return null;
    const table = this.blocks.get(offset);
    return table === undefined ? undefined : { offset, table };
  }

  private async block(index: number): Promise<{ offset: number; table: Uint8Array } | null> {
    const offset = this.blockOffset(index);
    if (offset === 0) return null;
    let table = this.blocks.get(offset);
    if (table === undefined) {
      table = new Uint8Array(this.clusterSize);
      await this.file.readExact(offset, table, `refcount block ${index}`);
      this.blocks.set(offset, table);
    }
    return { offset, table };
  }

  private readEntry(block: Uint8Array, i: number): number {
    const bits = this.refcountBits;
    if (bits < 8) return (block[Math.floor((i * bits) / 8)]! >> ((i * bits) % 8)) & ((1 << bits) - 1);
    const view = new DataView(block.buffer, block.byteOffset);
    if (bits === 8) return block[i]!;
    if (bits === 16) return view.getUint16(i * 2);
    if (bits === 32) return view.getUint32(i * 4);
    const value = view.getBigUint64(i * 8);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  /** Stores refcount `value` for entry `i`; returns the byte range that changed. */
  private writeEntry(block: Uint8Array, i: number, value: number): { start: number; end: number } {
    const bits = this.refcountBits;
    if (bits < 8) {
      const byte = Math.floor((i * bits) / 8);
      const shift = (i * bits) % 8;
      const mask = ((1 << bits) - 1) << shift;
      block[byte] = (block[byte]! & ~mask) | ((value << shift) & mask);
      return { start: byte, end: byte + 1 };
    }
    const bytes = bits / 8;
    const view = new DataView(block.buffer, block.byteOffset);
    if (bits === 8) block[i] = value;
    else if (bits === 16) view.setUint16(i * 2, value);
    else if (bits === 32) view.setUint32(i * 4, value);
    else view.setBigUint64(i * 8, BigInt(value));
    return { start: i * bytes, end: (i + 1) * bytes };
  }
}
