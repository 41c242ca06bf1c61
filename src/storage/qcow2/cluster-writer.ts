// The write path of a qcow2 image: guest writes in batches of new clusters (copy-on-write of
// shared and backing clusters), zeroing and discard, the space reservation asked of the guard
// before anything grows, and trimming free clusters off the end of the file. It follows the
// write ordering described in qcow2-image.ts.

import type { ClusterReader } from './cluster-reader.js';
import { readL2Entry, writeEntry, type L2Entry } from './l2-entry.js';
import type { Qcow2Context } from './qcow2-context.js';
import { corrupt } from './qcow2-error.js';

/** Guest bytes written per batch of new clusters (one buffer, one sync). */
const MAX_WRITE_BATCH = 4 * 1024 * 1024;

/** The header or table that [offset, offset + length) overlaps, or null. */
export type MetadataAt = (offset: number, length: number) => string | null;

export class ClusterWriter {
  private readonly ctx: Qcow2Context;
  private readonly reader: ClusterReader;
  private readonly metadataAt: MetadataAt;

  constructor(ctx: Qcow2Context, reader: ClusterReader, metadataAt: MetadataAt) {
    this.ctx = ctx;
    this.reader = reader;
    this.metadataAt = metadataAt;
  }

  /**
   * Writes `data` at `offset` in batches within one L2 table: clusters owned by the active disk
   * alone are written in place; the others get one run of new clusters (the rest of a partial
   * cluster copied from what it read as before), and after one sync the L2 entries point to them.
   */
  async write(offset: number, data: Uint8Array): Promise<void> {
    const { clusterSize: cs, map } = this.ctx;
    for (let done = 0; done < data.length; ) {
      const first = Math.floor((offset + done) / cs);
      const tableEnd = (Math.floor(first / map.l2Entries) + 1) * map.l2Entries * cs - offset;
      const batchEnd = Math.min(data.length, tableEnd, done + MAX_WRITE_BATCH);
      const needed = this.ctx.space === null ? 0 : await this.clustersToAllocate(offset + done, offset + batchEnd);
      await this.withSpace(needed, () => this.writeBatch(offset, data, done, batchEnd));
      done = batchEnd;
    }
  }

  /** Makes [offset, offset + length) read as zeros; whole clusters become zero (or unallocated) clusters. */
  async zero(offset: number, length: number): Promise<void> {
    const { clusterSize, clusterBits, version, map } = this.ctx;
    const noBacking = this.ctx.backing === null;
    for (let done = 0; done < length; ) {
      const at = offset + done;
      const inCluster = at % clusterSize;
      const n = Math.min(clusterSize - inCluster, length - done);
      const cluster = Math.floor(at / clusterSize);
      done += n;
      const entry = await map.lookup(cluster);
      const readsZero = entry.type === 'zero' || (entry.type === 'unallocated' && noBacking);
      if (readsZero && (entry.type !== 'zero' || entry.offset === 0)) continue;
      const whole = n === clusterSize || (inCluster === 0 && at + n === this.ctx.size);
      if (!whole || (version === 2 && !noBacking)) {
        // Version 2 has no zero flag: over a backing file, zeros must be written out.
        if (!readsZero) await this.write(at, new Uint8Array(n));
        continue;
      }
      await this.withSpace((await map.needsNewL2(cluster)) ? 1 : 0, async () => {
        const l2 = await map.l2ForWrite(cluster);
        const current = readL2Entry(l2.table, l2.index, clusterBits, version);
        await map.setL2Entry(l2, 0, false, !noBacking);
        map.release(current);
      });
    }
    await map.barrier();
    await this.trimFreeTail();
  }

  /** Runs `body` with room for `clusters` new clusters reserved from the space guard (if any). */
  async withSpace<T>(clusters: number, body: () => Promise<T>): Promise<T> {
    const guard = this.ctx.space;
    if (guard === null || clusters === 0) return body();
    const bytes = this.ctx.refcounts.growthBound(clusters);
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
  async trimFreeTail(): Promise<void> {
    const { clusterSize: cs, file, refcounts } = this.ctx;
    let end = Math.ceil(file.size / cs);
    while (end > 1 && (refcounts.peek(end - 1) ?? (await refcounts.get(end - 1))) === 0 && this.metadataAt((end - 1) * cs, cs) === null) end--;
    if (end * cs >= file.size) return;
    // The refcounts that freed these clusters must be durable before the clusters disappear.
    await file.sync();
    await file.truncate(end * cs);
  }

  /** Writes data[done, batchEnd) (within one L2 table) at offset + done. */
  private async writeBatch(offset: number, data: Uint8Array, done: number, batchEnd: number): Promise<void> {
    const { clusterSize: cs, clusterBits, version, path, file, refcounts, map } = this.ctx;
    const first = Math.floor((offset + done) / cs);
    const l2 = await map.l2ForWrite(first);
    const fresh: Array<{ index: number; cluster: number; inCluster: number; piece: Uint8Array; old: L2Entry }> = [];
    for (; done < batchEnd; ) {
      const at = offset + done;
      const inCluster = at % cs;
      const n = Math.min(cs - inCluster, batchEnd - done);
      const cluster = Math.floor(at / cs);
      const index = cluster % map.l2Entries;
      const piece = data.subarray(done, done + n);
      done += n;
      const entry = readL2Entry(l2.table, index, clusterBits, version);
      if (entry.type === 'normal') {
        this.reader.checkDataCluster(entry, cluster);
        const refcount = refcounts.peek(entry.offset / cs) ?? (await refcounts.get(entry.offset / cs));
        if (refcount === 0) throw corrupt(path, `guest cluster ${cluster} maps to host cluster ${entry.offset}, which has refcount 0`, { op: 'write', offset: entry.offset });
        if (refcount === 1) {
          await file.writeAt(entry.offset + inCluster, piece);
          continue;
        }
      }
      fresh.push({ index, cluster, inCluster, piece, old: entry });
    }
    if (fresh.length === 0) return;
    // Ordering steps 1-3: refcounts and data, a barrier, then the L2 entries; step 4 in release().
    const host = await refcounts.allocate(fresh.length);
    const buffer = new Uint8Array(fresh.length * cs);
    for (let i = 0; i < fresh.length; i++) {
      const { cluster, inCluster, piece, old } = fresh[i]!;
      const slot = buffer.subarray(i * cs, (i + 1) * cs);
      if (piece.length !== cs) await this.reader.readEntry(cluster, old, 0, slot);
      slot.set(piece, inCluster);
    }
    await file.writeAt(host, buffer);
    await map.barrier();
    for (let i = 0; i < fresh.length; i++) writeEntry(l2.table, fresh[i]!.index, host + i * cs, true);
    const low = fresh[0]!.index;
    const high = fresh[fresh.length - 1]!.index + 1;
    await file.writeAt(l2.offset + low * 8, l2.table.subarray(low * 8, high * 8));
    for (const update of fresh) map.release(update.old);
  }

  /** How many clusters writing guest bytes [from, to) (within one L2 table) allocates: new data clusters and a new L2 table. */
  private async clustersToAllocate(from: number, to: number): Promise<number> {
    const { clusterSize: cs, refcounts, map } = this.ctx;
    let count = (await map.needsNewL2(Math.floor(from / cs))) ? 1 : 0;
    for (let cluster = Math.floor(from / cs); cluster * cs < to; cluster++) {
      const entry = map.lookupCached(cluster) ?? (await map.lookup(cluster));
      if (entry.type === 'normal' && (refcounts.peek(entry.offset / cs) ?? (await refcounts.get(entry.offset / cs))) === 1) continue;
      count++;
    }
    return count;
  }
}
