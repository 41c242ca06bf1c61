// Copy-on-write overlays for a VM's writable disks: a snapshot owns the images as they were
// when it was taken, so whoever runs on (the saved VM, a restore, a fork) writes to a new qcow2
// overlay whose backing file is that image, and the image itself never changes again.

import { cloneImage } from '../storage/image-ops/clone-image.js';
import { ImageOpsError } from '../storage/image-ops/image-ops-error.js';
import { openDiskImage, type DiskImage } from '../storage/disk-image.js';
import type { DiskDescription } from './vm-description.js';

export interface DiskOverlay {
  index: number;
  path: string;
  backend: DiskImage;
}

/**
 * Creates and opens an overlay for every writable disk, at `prefix(disk)` + ".qcow2" (or
 * "-2.qcow2", "-3.qcow2"... when taken). Read-only disks are shared as they are.
 */
export async function overlayWritableDisks(disks: readonly DiskDescription[], prefix: (disk: DiskDescription, index: number) => string): Promise<DiskOverlay[]> {
  const overlays: DiskOverlay[] = [];
  try {
    for (const [index, disk] of disks.entries()) {
      if (disk.readOnly) continue;
      const path = await createFree(prefix(disk, index), (candidate) => cloneImage(disk.path, candidate, disk.format ? { templateFormat: disk.format } : {}));
      overlays.push({ index, path, backend: await openDiskImage(path, { format: 'qcow2' }) });
    }
    return overlays;
  } catch (e) {
    for (const overlay of overlays) await overlay.backend.close().catch(() => {});
    throw e;
  }
}

/**
 * Creates the first of PREFIX.qcow2, PREFIX-2.qcow2, ... that does not exist yet. Creation is
 * exclusive, so VMs restored from one snapshot at the same moment each get their own.
 */
async function createFree(prefix: string, create: (path: string) => Promise<unknown>): Promise<string> {
  for (let n = 1; ; n++) {
    const path = `${prefix}${n === 1 ? '' : `-${n}`}.qcow2`;
    try {
      await create(path);
      return path;
    } catch (e) {
      if (!isTaken(e)) throw e;
    }
  }
}

function isTaken(e: unknown): boolean {
  if (e instanceof ImageOpsError) return e.kind === 'exists';
  return (e as { cause?: { code?: unknown } } | null)?.cause?.code === 'EEXIST';
}
