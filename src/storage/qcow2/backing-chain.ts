// Opening an image's backing file: the name resolves against the image's directory, the
// format comes from the header extension or the magic, and the chain is bounded in depth and
// must not loop. Backing files are always opened read-only.

import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type BackingImage, RawBackingImage } from './backing-image.js';
import { ImageFile } from './image-file.js';
import { Qcow2Error } from './qcow2-error.js';

/** Chains of more images than this are refused (they are almost always a mistake or an attack). */
export const MAX_BACKING_DEPTH = 16;
const QCOW2_MAGIC_BYTES = [0x51, 0x46, 0x49, 0xfb];

/** Opens a qcow2 backing file read-only, given the real paths of the images above it. */
export type OpenQcow2Backing = (file: ImageFile, chain: string[]) => Promise<BackingImage>;

/** Opens the backing file `name` of the image at `path`, read-only; `chain` holds the real paths already open. */
export async function openBacking(path: string, name: string, format: string | null, chain: string[], openQcow2: OpenQcow2Backing): Promise<BackingImage> {
  const backingPath = isAbsolute(name) ? name : resolve(dirname(path), name);
  const ctx = { path, op: 'open' };
  let self: string;
  let real: string;
  try {
    self = await realpath(path);
  } catch {
    self = resolve(path);
  }
  try {
    real = await realpath(backingPath);
  } catch (cause) {
    throw new Qcow2Error('not-found', `cannot open the backing file ${backingPath} of ${path}: ${(cause as Error).message}; restore it or rebase the image (qemu-img rebase)`, ctx, { cause });
  }
  const seen = chain.includes(self) ? chain : [...chain, self];
  if (seen.includes(real)) throw new Qcow2Error('backing-loop', `cannot open ${path}: its backing chain loops back to ${real}; fix the backing file names (qemu-img rebase -u)`, ctx);
  if (seen.length >= MAX_BACKING_DEPTH) throw new Qcow2Error('too-large', `cannot open ${path}: its backing chain is deeper than ${MAX_BACKING_DEPTH} images; flatten it with qemu-img convert`, ctx);
  if (format !== null && format !== 'raw' && format !== 'qcow2') {
    throw new Qcow2Error('unsupported-feature', `cannot open the backing file ${backingPath} of ${path}: format ${format} is not supported (raw or qcow2)`, ctx);
  }
  const file = await ImageFile.open(backingPath, true);
  try {
    let kind = format;
    if (kind === null) {
      const magic = new Uint8Array(4);
      const n = await file.readAt(0, magic);
      kind = n === 4 && QCOW2_MAGIC_BYTES.every((b, i) => magic[i] === b) ? 'qcow2' : 'raw';
    }
    if (kind === 'raw') return new RawBackingImage(file);
    return await openQcow2(file, seen);
  } catch (e) {
    await file.close();
    throw e;
  }
}
