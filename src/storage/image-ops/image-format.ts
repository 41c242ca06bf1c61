// Opens a disk image for the image operations, detecting its format by the header: the qcow2
// magic 'QFI\xfb', else raw (any regular file whose size is a multiple of 512). Kept in one
// file so that it can give way to openDiskImage (src/storage/disk-image.ts) later.

import { type FileHandle, open } from 'node:fs/promises';
import { Qcow2Image } from '../qcow2/qcow2-image.js';
import { ImageOpsError, fsError } from './image-ops-error.js';

export type ImageFormat = 'raw' | 'qcow2';

/** What the image operations need of an open image, whatever its format. */
export interface OpenImage {
  readonly path: string;
  readonly format: ImageFormat;
  readonly size: number;
  /** The qcow2 image, for what only qcow2 has (snapshots, check, allocation map); null for raw. */
  readonly qcow2: Qcow2Image | null;
  read(offset: number, into: Uint8Array): Promise<void>;
  write(offset: number, data: Uint8Array): Promise<void>;
  writeZeroes(offset: number, length: number): Promise<void>;
  /** Grows the image to `newSize` bytes; shrinking is refused. */
  resize(newSize: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];
const ZERO_CHUNK = 1024 * 1024;

export function isImageFormat(text: string): text is ImageFormat {
  return text === 'raw' || text === 'qcow2';
}

/** The format of the image at `path`, by its first four bytes. */
export async function detectImageFormat(path: string): Promise<ImageFormat> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    throw fsError(cause, path, 'open disk image');
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new ImageOpsError('not-an-image', `cannot use ${path} as a disk image: it is not a regular file`, path);
    const magic = new Uint8Array(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    if (bytesRead === 4 && QCOW2_MAGIC.every((b, i) => magic[i] === b)) return 'qcow2';
    if (stat.size % 512 !== 0) {
      throw new ImageOpsError('not-an-image', `${path} is not a disk image: it is not qcow2 and its size (${stat.size} bytes) is not a multiple of 512, as a raw image's is`, path);
    }
    return 'raw';
  } finally {
    await handle.close();
  }
}

/** Opens the image at `path` (format detected unless given); read-only unless `writable`. */
export async function openImage(path: string, options: { writable?: boolean; format?: ImageFormat } = {}): Promise<OpenImage> {
  const format = options.format ?? (await detectImageFormat(path));
  const writable = options.writable ?? false;
  if (format === 'qcow2') return qcow2Image(path, await Qcow2Image.open(path, { readOnly: !writable }));
  let handle: FileHandle;
  try {
    handle = await open(path, writable ? 'r+' : 'r');
  } catch (cause) {
    throw fsError(cause, path, writable ? 'open for writing the disk image' : 'open disk image');
  }
  const stat = await handle.stat();
  return new RawImage(path, handle, stat.size);
}

function qcow2Image(path: string, image: Qcow2Image): OpenImage {
  return {
    path, format: 'qcow2', qcow2: image,
    get size() { return image.size; },
    read: (offset, into) => image.read(offset, into),
    write: (offset, data) => image.write(offset, data),
    writeZeroes: (offset, length) => image.writeZeroes(offset, length),
    resize: (newSize) => image.resize(newSize),
    flush: () => image.flush(),
    close: () => image.close(),
  };
}

/** A raw image: guest byte N is file byte N. */
class RawImage implements OpenImage {
  readonly format = 'raw';
  readonly qcow2 = null;
  readonly path: string;
  size: number;
  private readonly handle: FileHandle;

  constructor(path: string, handle: FileHandle, size: number) {
    this.path = path;
    this.handle = handle;
    this.size = size;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < into.length) {
        const { bytesRead } = await this.handle.read(into, done, into.length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (cause) {
      throw fsError(cause, this.path, `read ${into.length} bytes at ${offset} of`);
    }
    into.fill(0, done);
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    try {
      for (let done = 0; done < data.length; ) done += (await this.handle.write(data, done, data.length - done, offset + done)).bytesWritten;
    } catch (cause) {
      throw fsError(cause, this.path, `write ${data.length} bytes at ${offset} of`);
    }
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    const zeros = new Uint8Array(Math.min(length, ZERO_CHUNK));
    for (let done = 0; done < length; done += zeros.length) await this.write(offset + done, zeros.subarray(0, Math.min(zeros.length, length - done)));
  }

  async resize(newSize: number): Promise<void> {
    if (!Number.isSafeInteger(newSize) || newSize % 512 !== 0) throw new ImageOpsError('invalid-argument', `cannot resize ${this.path} to ${newSize} bytes: a raw image's size is a multiple of 512`, this.path);
    if (newSize < this.size) throw new ImageOpsError('invalid-argument', `cannot shrink ${this.path} from ${this.size} to ${newSize} bytes: shrinking would lose data and is not supported`, this.path);
    try {
      await this.handle.truncate(newSize);
    } catch (cause) {
      throw fsError(cause, this.path, 'resize');
    }
    this.size = newSize;
  }

  async flush(): Promise<void> {
    try {
      await this.handle.sync();
    } catch (cause) {
      throw fsError(cause, this.path, 'sync');
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
