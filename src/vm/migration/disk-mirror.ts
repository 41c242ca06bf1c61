// Local disks copied during a live migration, for a destination that does not see the
// source's storage: every block goes once while the guest runs, then the blocks it wrote
// meanwhile, round by round like RAM, and the last ones while it is paused. A tracked disk
// forwards everything to the real one and notes which 64 KiB blocks a write, discard or
// write-zeroes touched.

import { BlockBackendError } from '../../storage/block-backend.js';
import type { DiskImage } from '../../storage/disk-image.js';
import { MessageType, MigrationError, type MigrationChannel } from './migration-channel.js';

export const MIRROR_BLOCK = 64 * 1024;
/** Blocks read and sent at once in the first pass. */
const COPY_BYTES = 1 << 20;
/** disk (u32), offset (two u32, low first), length (u32), zero (u32: the range reads as zeros, no data follows). */
const HEADER_BYTES = 20;

export interface TrackedDisk extends DiskImage {
  /** The blocks changed since the last call, in order; they count as clean afterwards. */
  takeDirty(): number[];
  /** How many blocks are dirty now. */
  dirtyCount(): number;
}

export function trackDisk(inner: DiskImage): TrackedDisk {
  const dirty = new Uint8Array(Math.ceil(inner.size / MIRROR_BLOCK));
  const mark = (offset: number, length: number) => {
    const last = Math.min(dirty.length - 1, Math.floor((offset + Math.max(length, 1) - 1) / MIRROR_BLOCK));
    for (let block = Math.floor(offset / MIRROR_BLOCK); block <= last; block++) dirty[block] = 1;
  };
  return {
    path: inner.path,
    format: inner.format,
    get size() {
      return inner.size;
    },
    readOnly: inner.readOnly,
    read: (offset, into) => inner.read(offset, into),
    write: (offset, data) => (mark(offset, data.length), inner.write(offset, data)),
    flush: () => inner.flush(),
    ...(inner.discard ? { discard: (offset: number, length: number) => (mark(offset, length), inner.discard!(offset, length)) } : {}),
    ...(inner.writeZeroes ? { writeZeroes: (offset: number, length: number) => (mark(offset, length), inner.writeZeroes!(offset, length)) } : {}),
    close: () => inner.close(),
    dirtyCount: () => {
      let n = 0;
      for (let b = dirty.indexOf(1); b !== -1; b = dirty.indexOf(1, b + 1)) n++;
      return n;
    },
    takeDirty: () => {
      const blocks: number[] = [];
      for (let b = dirty.indexOf(1); b !== -1; b = dirty.indexOf(1, b + 1)) blocks.push(b);
      dirty.fill(0);
      return blocks;
    },
  };
}

/** Sends disk blocks over the migration channel. */
export class DiskMirror {
  constructor(private readonly channel: MigrationChannel, private readonly disks: readonly TrackedDisk[]) {}

  /** Every block that is not zero (the destination's copies start empty). */
  async copyAll(onProgress: (done: number, total: number) => void): Promise<void> {
    const total = this.disks.reduce((sum, d) => sum + d.size, 0);
    let done = 0;
    const buffer = new Uint8Array(COPY_BYTES);
    for (const [index, disk] of this.disks.entries()) {
      for (let offset = 0; offset < disk.size; offset += COPY_BYTES) {
        const piece = buffer.subarray(0, Math.min(COPY_BYTES, disk.size - offset));
        await disk.read(offset, piece);
        if (!isZero(piece)) await this.send(index, offset, piece);
        done += piece.length;
        onProgress(done, total);
      }
    }
  }

  /** Bytes the blocks written since the last sendDirty() would take. */
  pendingBytes(): number {
    return this.disks.reduce((sum, d) => sum + d.dirtyCount() * MIRROR_BLOCK, 0);
  }

  /** The blocks written since the last call; returns how many went. */
  async sendDirty(): Promise<number> {
    let sent = 0;
    const buffer = new Uint8Array(MIRROR_BLOCK);
    for (const [index, disk] of this.disks.entries()) {
      for (const block of disk.takeDirty()) {
        const offset = block * MIRROR_BLOCK;
        const piece = buffer.subarray(0, Math.min(MIRROR_BLOCK, disk.size - offset));
        await disk.read(offset, piece);
        await this.send(index, offset, piece);
        sent++;
      }
    }
    return sent;
  }

  private async send(disk: number, offset: number, data: Uint8Array): Promise<void> {
    const zero = isZero(data);
    const message = new Uint8Array(HEADER_BYTES + (zero ? 0 : data.length));
    const view = new DataView(message.buffer);
    view.setUint32(0, disk, true);
    view.setUint32(4, offset % 2 ** 32, true);
    view.setUint32(8, Math.floor(offset / 2 ** 32), true);
    view.setUint32(12, data.length, true);
    view.setUint32(16, zero ? 1 : 0, true);
    if (!zero) message.set(data, HEADER_BYTES);
    await this.channel.send(MessageType.DISK_DATA, message);
  }
}

/** Writes a DISK_DATA message into the destination's copies, after checking it against them. */
export async function applyDiskData(payload: Uint8Array, copies: readonly DiskImage[]): Promise<void> {
  if (payload.length < HEADER_BYTES) throw new MigrationError('the source sent a disk block shorter than its header');
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const index = view.getUint32(0, true);
  const offset = view.getUint32(4, true) + view.getUint32(8, true) * 2 ** 32;
  const length = view.getUint32(12, true);
  const zero = view.getUint32(16, true) === 1;
  const copy = copies[index];
  if (copy === undefined) throw new MigrationError(`the source sent a block of disk ${index}, which it never announced`);
  if (length % 512 !== 0 || length > COPY_BYTES || offset % 512 !== 0 || offset + length > copy.size || (!zero && payload.length !== HEADER_BYTES + length)) {
    throw new MigrationError(`the source sent a malformed block of disk ${index} (${length} bytes at ${offset})`);
  }
  try {
    if (!zero) await copy.write(offset, payload.subarray(HEADER_BYTES));
    else if (copy.writeZeroes) await copy.writeZeroes(offset, length);
    else await copy.write(offset, new Uint8Array(length));
  } catch (e) {
    if (e instanceof BlockBackendError) throw new MigrationError(`cannot write the copy of disk ${index} here: ${e.message}`, { cause: e });
    throw e;
  }
}

function isZero(bytes: Uint8Array): boolean {
  const words = bytes.byteOffset % 4 === 0 && bytes.length % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : bytes;
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}
