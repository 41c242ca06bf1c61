// The destination's own copies of a migrating VM's disks: thin qcow2 images in a directory,
// written from the source's blocks while the guest still runs there, and the disks the VM runs
// on once it arrives. A migration that fails removes them.

import { rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { createImage } from '../../storage/image-ops/create-image.js';
import { openDiskImage, type DiskImage } from '../../storage/disk-image.js';
import type { DiskDescription } from '../vm-description.js';
import type { DiskFacts } from './migration-protocol.js';

export interface DiskCopies {
  images: DiskImage[];
  /** Closes the copies and returns the handed-over disks described at their new paths. */
  finish(handed: readonly DiskDescription[]): Promise<DiskDescription[]>;
  /** Closes and removes them (nothing ran on them). */
  discard(): Promise<void>;
}

export async function createCopies(dir: string, disks: readonly DiskDescription[], facts: readonly DiskFacts[]): Promise<DiskCopies> {
  const images: DiskImage[] = [];
  const paths: string[] = [];
  const closeAll = async () => {
    for (const image of images) await image.close().catch(() => {});
  };
  try {
    for (const [i, disk] of disks.entries()) {
      // Numbered: two disks may share a file name.
      const path = resolve(join(dir, `${i}-${basename(disk.path).replace(/\.qcow2$/, '')}.qcow2`));
      await createImage(path, { format: 'qcow2', size: facts[i]!.size });
      paths.push(path);
      images.push(await openDiskImage(path, { format: 'qcow2' }));
    }
  } catch (e) {
    await closeAll();
    for (const path of paths) await rm(path, { force: true });
    throw e;
  }
  return {
    images,
    finish: async (handed) => {
      for (const image of images) await image.flush();
      await closeAll();
      return handed.map((disk, i) => ({ ...disk, path: paths[i]!, format: 'qcow2' as const }));
    },
    discard: async () => {
      await closeAll();
      for (const path of paths) await rm(path, { force: true });
    },
  };
}
