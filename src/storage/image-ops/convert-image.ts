// Copies the guest-visible contents of an image into a new image of either format, the way
// `qemu-img convert` does: a backing chain is flattened into the copy, runs of zeros are left
// unallocated (holes in raw, unallocated clusters in qcow2), internal snapshots are not copied.

import { realpath, rm, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createImage } from './create-image.js';
import { dataExtents } from './data-extents.js';
import { type ImageFormat, type OpenImage, openImage } from './image-format.js';
import { ImageOpsError } from './image-ops-error.js';

/** Called with guest bytes done and the total, after each chunk. */
export type ProgressCallback = (done: number, total: number) => void;

export interface ConvertOptions {
  outputFormat: ImageFormat;
  /**
   * The source's format; detected from its header when absent. Name it for an image a guest
   * wrote: a raw disk whose first sector a guest made a qcow2 header would otherwise be read as
   * qcow2, backing file (any host file it names) included.
   */
  inputFormat?: ImageFormat;
  /** qcow2 output: log2 of the cluster size (default 16). */
  clusterBits?: number;
  onProgress?: ProgressCallback;
}

export interface ConvertResult {
  virtualSize: number;
  /** Guest bytes written to the copy (the rest was zeros and left unallocated). */
  dataBytes: number;
}

const CHUNK = 1024 * 1024;
/** Zero detection granularity for raw output (a file system block). */
const RAW_GRAIN = 4096;

export async function convertImage(src: string, dst: string, options: ConvertOptions): Promise<ConvertResult> {
  if (await exists(dst)) {
    const same = (await realpath(dst)) === (await realpath(src).catch(() => resolve(src)));
    throw new ImageOpsError('exists', `cannot convert to ${dst}: ${same ? 'it is the source image' : 'the file exists; remove it or choose another path'}`, dst);
  }
  const source = await openImage(src, { format: options.inputFormat });
  let target: OpenImage | null = null;
  let created = false;
  try {
    const size = Math.ceil(source.size / 512) * 512;
    await createImage(dst, { format: options.outputFormat, size, clusterBits: options.clusterBits });
    created = true;
    target = await openImage(dst, { writable: true, format: options.outputFormat });
    const grain = target.qcow2?.clusterSize ?? RAW_GRAIN;
    const dataBytes = await copyData(source, target, grain, options.onProgress);
    await target.flush();
    await target.close();
    target = null;
    return { virtualSize: size, dataBytes };
  } catch (e) {
    await target?.close().catch(() => undefined);
    if (created) await rm(dst, { force: true });
    throw e;
  } finally {
    await source.close();
  }
}

/** Copies every non-zero grain of `source` into `target`; returns the bytes written. */
async function copyData(source: OpenImage, target: OpenImage, grain: number, onProgress: ProgressCallback | undefined): Promise<number> {
  const total = source.size;
  // Only ranges some layer holds data for are read; the rest reads as zeros and stays a hole.
  const extents = source.format === 'qcow2' ? await dataExtents(source.path, total, 'qcow2') : [{ offset: 0, length: total }];
  const buffer = new Uint8Array(CHUNK);
  let written = 0;
  onProgress?.(0, total);
  for (const extent of extents) {
    const end = extent.offset + extent.length;
    for (let at = extent.offset; at < end; ) {
      // Chunks stay on the grain's boundaries, so a grain is never split between two chunks.
      const next = Math.min(end, (Math.floor(at / CHUNK) + 1) * CHUNK);
      const part = buffer.subarray(0, next - at);
      await source.read(at, part);
      written += await writeNonZero(target, at, part, grain);
      at = next;
      // Extents are in disk order, so everything before `at` is done (copied or skipped as zeros).
      onProgress?.(at, total);
    }
  }
  onProgress?.(total, total);
  return written;
}

/** Writes the runs of `data` whose grains are not all zeros; returns the bytes written. */
export async function writeNonZero(target: OpenImage, offset: number, data: Uint8Array, grain: number): Promise<number> {
  let written = 0;
  let runStart = -1;
  const flushRun = async (end: number): Promise<void> => {
    if (runStart < 0) return;
    await target.write(offset + runStart, data.subarray(runStart, end));
    written += end - runStart;
    runStart = -1;
  };
  for (let i = 0; i < data.length; ) {
    const next = Math.min(data.length, (Math.floor((offset + i) / grain) + 1) * grain - offset);
    if (isZero(data.subarray(i, next))) await flushRun(i);
    else if (runStart < 0) runStart = i;
    i = next;
  }
  await flushRun(data.length);
  return written;
}

const ZEROS = Buffer.alloc(64 * 1024);

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i += ZEROS.length) {
    const n = Math.min(ZEROS.length, bytes.length - i);
    if (!Buffer.from(bytes.buffer, bytes.byteOffset + i, n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
