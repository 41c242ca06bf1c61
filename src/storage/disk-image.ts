// Opens a disk image file as a BlockBackend, raw or qcow2, by looking at its header (qcow2
// images start with "QFI\xfb") unless the caller names the format. Naming it is safer for
// images a guest could have written: a raw disk whose first sector a guest filled with a qcow2
// header would otherwise be opened as qcow2, with its backing file read from the host, so a
// raw image whose format was guessed refuses such writes.

import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { BlockBackendError, type BlockBackend } from './block-backend.js';
import { FileBlockBackend } from './file-block-backend.js';
import { Qcow2BlockBackend } from './qcow2-block-backend.js';
import { Qcow2Error } from './qcow2/qcow2-error.js';
import { QCOW2_MAGIC } from './qcow2/qcow2-header.js';
import { Qcow2Image } from './qcow2/qcow2-image.js';

export type DiskFormat = 'raw' | 'qcow2';
export const DISK_FORMATS: readonly DiskFormat[] = ['raw', 'qcow2'];

export interface DiskImage extends BlockBackend {
  readonly format: DiskFormat;
  readonly path: string;
}

export interface OpenDiskImageOptions {
  /** The image's format; detected from its header when absent. */
  format?: DiskFormat;
  readOnly?: boolean;
}

/** The format `path`'s header says it has: 'qcow2' for the qcow2 magic, else 'raw'. */
export async function detectDiskFormat(path: string): Promise<DiskFormat> {
  let handle;
  try {
    // Non-blocking, so a FIFO given by mistake cannot hang the open.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return 'raw'; // FileBlockBackend.open explains what is wrong with the path
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile() && !stat.isBlockDevice()) return 'raw';
    const head = new Uint8Array(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && new DataView(head.buffer).getUint32(0) === QCOW2_MAGIC ? 'qcow2' : 'raw';
  } catch {
    return 'raw';
  } finally {
    await handle.close();
  }
}

/** Opens `path` as a disk; throws BlockBackendError with what is wrong and what to do. */
export async function openDiskImage(path: string, options: OpenDiskImageOptions = {}): Promise<DiskImage> {
  const format = options.format ?? (await detectDiskFormat(path));
  const readOnly = options.readOnly ?? false;
  if (format === 'raw') {
    const guessed = options.format === undefined ? { refuseMagic: QCOW2_MAGIC } : {};
    return Object.assign(FileBlockBackend.open(path, { readOnly, ...guessed }), { format });
  }
  let image: Qcow2Image;
  try {
    image = await Qcow2Image.open(path, { readOnly });
  } catch (e) {
    if (!(e instanceof Qcow2Error)) throw e;
    const kind = e.kind === 'not-found' ? 'not-found' : e.kind === 'io' ? 'open-failed' : 'bad-format';
    throw new BlockBackendError(kind, e.message, { path, op: 'open' }, { cause: e });
  }
  return Object.assign(new Qcow2BlockBackend(image), { format, path });
}
