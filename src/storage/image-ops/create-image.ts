// Creates an empty disk image: a sparse raw file, or a qcow2 image (optionally over a backing
// file), the way `qemu-img create` does. An existing file is never overwritten.

import { open } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Qcow2Image } from '../qcow2/qcow2-image.js';
import { type ImageFormat, detectImageFormat } from './image-format.js';
import { ImageOpsError, fsError } from './image-ops-error.js';

export interface CreateImageOptions {
  format: ImageFormat;
  /** Virtual size in bytes, a multiple of 512; a qcow2 image over a backing file defaults to the backing file's size. */
  size?: number;
  /** qcow2 only: the backing file name as stored; a relative name is relative to the new image's directory. */
  backingFile?: string;
  /** The backing file's format; detected from its header when not given. */
  backingFormat?: ImageFormat;
  /** qcow2 only: log2 of the cluster size (9..21, default 16). */
  clusterBits?: number;
}

export async function createImage(path: string, options: CreateImageOptions): Promise<void> {
  const { size } = options;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0 || size % 512 !== 0)) {
    throw new ImageOpsError('invalid-argument', `cannot create ${path}: the size ${size} is not a whole number of 512-byte sectors`, path);
  }
  if (options.format === 'raw') {
    if (options.backingFile !== undefined) throw new ImageOpsError('invalid-argument', `cannot create ${path}: a raw image cannot have a backing file; create a qcow2 image instead`, path);
    if (options.clusterBits !== undefined) throw new ImageOpsError('invalid-argument', `cannot create ${path}: a raw image has no clusters; the cluster size applies to qcow2 only`, path);
    if (size === undefined) throw new ImageOpsError('invalid-argument', `cannot create ${path}: give a size`, path);
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.truncate(size);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (cause) {
      throw fsError(cause, path, 'create');
    }
    return;
  }
  let backingFormat = options.backingFormat;
  if (options.backingFile !== undefined && backingFormat === undefined) {
    const backingPath = isAbsolute(options.backingFile) ? options.backingFile : resolve(dirname(path), options.backingFile);
    try {
      backingFormat = await detectImageFormat(backingPath);
    } catch (e) {
      if (!(e instanceof ImageOpsError)) throw e;
      throw new ImageOpsError(e.kind, `cannot create ${path} over the backing file ${options.backingFile}: ${e.message}`, path, { cause: e });
    }
  }
  const image = await Qcow2Image.create(path, { size, clusterBits: options.clusterBits, backingFile: options.backingFile, backingFormat });
  await image.close();
}
