// Writes what a qcow2 overlay holds into its backing file, like `qemu-img commit`: every
// cluster the overlay itself holds (data, and zero clusters, which become zeros in the base)
// is copied down; a base smaller than the overlay is grown first. The base is synced before
// the overlay changes, so a crash at any point leaves both readable with the same contents.
//
// Then the overlay is emptied, as qemu-img commit does without -d: it is replaced (by a rename
// of a new file) with an empty overlay of the same size, cluster size and backing file, so it
// reads what the base reads. An overlay with internal snapshots is left as it is (still
// correct: it holds the same bytes the base now has), since emptying it would drop them.
// A new overlay is qcow2 version 3, whatever the version of the one it replaces.
//
// Only the immediate backing file is written. Other images over that base (linked clones)
// see the change too: commit into a template only when nothing else depends on it.

import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Qcow2Image } from '../qcow2/qcow2-image.js';
import { syncDirectory } from '../sync-directory.js';
import type { ProgressCallback } from './convert-image.js';
import { type OpenImage, detectImageFormat, isImageFormat, openImage } from './image-format.js';
import { readQcow2Header, resolveBacking } from './image-info.js';
import { ImageOpsError, fsError } from './image-ops-error.js';

export interface CommitResult {
  /** The backing file written to. */
  base: string;
  /** Guest bytes the overlay held and the base received. */
  committedBytes: number;
  /** Whether the overlay was emptied (false when it has internal snapshots). */
  emptied: boolean;
}

const CHUNK = 1024 * 1024;

export async function commitImage(overlayPath: string, options: { onProgress?: ProgressCallback } = {}): Promise<CommitResult> {
  if ((await detectImageFormat(overlayPath)) !== 'qcow2') {
    throw new ImageOpsError('unsupported', `cannot commit ${overlayPath}: it is a raw image, which has no backing file to commit into`, overlayPath);
  }
  const header = await readQcow2Header(overlayPath);
  if (header.backingFile === null) {
    throw new ImageOpsError('invalid-argument', `cannot commit ${overlayPath}: it has no backing file to commit into`, overlayPath);
  }
  const basePath = resolveBacking(overlayPath, header.backingFile);
  const baseFormat = header.backingFormat !== null && isImageFormat(header.backingFormat) ? header.backingFormat : await detectImageFormat(basePath);
  const overlay = await Qcow2Image.open(overlayPath, { readOnly: true });
  let committedBytes = 0;
  let hasSnapshots: boolean;
  try {
    hasSnapshots = overlay.listSnapshots().length > 0;
    const held = (await overlay.allocationMap()).filter((e) => e.state !== 'unallocated');
    const total = held.reduce((sum, e) => sum + e.length, 0);
    const base = await openImage(basePath, { writable: true, format: baseFormat });
    try {
      if (base.size < overlay.size) await base.resize(Math.ceil(overlay.size / 512) * 512);
      options.onProgress?.(0, total);
      for (const extent of held) committedBytes = await copyExtent(overlay, base, extent, committedBytes, total, options.onProgress);
      await base.flush();
    } finally {
      await base.close();
    }
  } finally {
    await overlay.close();
  }
  if (!hasSnapshots) {
    await replaceWithEmpty(overlayPath, {
      size: overlay.size, clusterBits: overlay.clusterBits, backingFile: header.backingFile, backingFormat: baseFormat,
    });
  }
  return { base: basePath, committedBytes, emptied: !hasSnapshots };
}

async function copyExtent(
  overlay: Qcow2Image, base: OpenImage, extent: { offset: number; length: number; state: string }, doneBefore: number, total: number, onProgress: ProgressCallback | undefined,
): Promise<number> {
  let done = doneBefore;
  const end = extent.offset + extent.length;
  for (let at = extent.offset; at < end; ) {
    const n = Math.min(CHUNK, end - at);
    if (extent.state === 'zero') await base.writeZeroes(at, n);
    else {
      const data = new Uint8Array(n);
      await overlay.read(at, data);
      await base.write(at, data);
    }
    at += n;
    done += n;
    onProgress?.(done, total);
  }
  return done;
}

/** Swaps the overlay for an empty one with the same geometry and backing file. */
async function replaceWithEmpty(path: string, layout: { size: number; clusterBits: number; backingFile: string; backingFormat: 'raw' | 'qcow2' }): Promise<void> {
  // The new file sits beside the old one so the backing name resolves the same and rename is atomic.
  const temporary = `${path}.commit-${process.pid}.tmp`;
  try {
    const empty = await Qcow2Image.create(temporary, layout);
    await empty.close();
    await rename(temporary, path);
    await syncDirectory(dirname(path));
  } catch (e) {
    await rm(temporary, { force: true });
    if (e instanceof Error && 'code' in e) throw fsError(e, path, 'empty the committed overlay');
    throw e;
  }
}
