// The bytes of a new, empty qcow2 version 3 image: header cluster, refcount table, refcount
// blocks that count every cluster of the layout, and a zeroed L1 table. Nothing else is
// allocated, so a large virtual disk costs a few clusters.

import { rm } from 'node:fs/promises';
import { ImageFile } from './image-file.js';
import { buildQcow2Header, l1EntriesFor } from './qcow2-header.js';

export interface NewImageLayout {
  size: number;
  clusterBits: number;
  backingFile?: string | undefined;
  backingFormat?: string | undefined;
}

/** Writes and syncs a new image at `path` (which must not exist); removes it again if writing fails. */
export async function writeNewImage(path: string, options: NewImageLayout): Promise<void> {
  const { size, clusterBits } = options;
  const cs = 2 ** clusterBits;
  const l1Size = l1EntriesFor(size, clusterBits);
  const l1Clusters = Math.ceil((l1Size * 8) / cs);
  const perBlock = (cs * 8) / 16;
  let blocks = 1;
  let tableClusters = 1;
  for (;;) {
    const total = 1 + tableClusters + blocks + l1Clusters;
    const nextBlocks = Math.ceil(total / perBlock);
    const nextTable = Math.ceil((nextBlocks * 8) / cs);
    if (nextBlocks === blocks && nextTable === tableClusters) break;
    blocks = nextBlocks;
    tableClusters = nextTable;
  }
  const total = 1 + tableClusters + blocks + l1Clusters;
  const header = buildQcow2Header({
    clusterBits, size, l1Size, l1TableOffset: (1 + tableClusters + blocks) * cs, refcountTableOffset: cs, refcountTableClusters: tableClusters,
    backingFile: options.backingFile, backingFormat: options.backingFile === undefined ? undefined : options.backingFormat,
  });
  const table = new Uint8Array(tableClusters * cs);
  for (let b = 0; b < blocks; b++) new DataView(table.buffer).setBigUint64(b * 8, BigInt((1 + tableClusters + b) * cs));
  const refcountBlocks = new Uint8Array(blocks * cs);
  for (let c = 0; c < total; c++) new DataView(refcountBlocks.buffer).setUint16(c * 2, 1);
  const file = await ImageFile.open(path, false, true);
  try {
    await file.writeAt(0, header);
    await file.writeAt(cs, table);
    await file.writeAt((1 + tableClusters) * cs, refcountBlocks);
    await file.writeAt((1 + tableClusters + blocks) * cs, new Uint8Array(l1Clusters * cs));
    await file.sync();
  } catch (e) {
    await file.close();
    await rm(path, { force: true });
    throw e;
  }
  await file.close();
}
