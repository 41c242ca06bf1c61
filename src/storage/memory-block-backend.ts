// A disk held in memory: for tests, scratch disks and disks built on the fly.

import { BlockBackendError, SECTOR_SIZE, checkAccess, type BlockBackend } from './block-backend.js';

export interface MemoryBlockBackendOptions {
  /** Initial contents (copied); its length is the disk size. Or give `size` for a zeroed disk. */
  contents?: Uint8Array;
  size?: number;
  readOnly?: boolean;
  /** Name in error messages (default "memory disk"). */
  name?: string;
}

export class MemoryBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  /** The disk's bytes (tests inspect them). */
  readonly bytes: Uint8Array;
  /** Number of flush() calls (tests check that the device flushed). */
  flushes = 0;
  private readonly name: string;

  constructor(options: MemoryBlockBackendOptions) {
    this.name = options.name ?? 'memory disk';
    const size = options.contents?.length ?? options.size ?? 0;
    if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0) {
      throw new BlockBackendError('bad-size', `cannot create ${this.name} of ${size} bytes: the size must be a positive multiple of ${SECTOR_SIZE}`, { path: this.name, op: 'open' });
    }
    this.size = size;
    this.readOnly = options.readOnly ?? false;
    this.bytes = options.contents ? options.contents.slice() : new Uint8Array(size);
  }

  read(offset: number, into: Uint8Array): void {
    checkAccess(this, this.name, 'read', offset, into.length);
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  write(offset: number, data: Uint8Array): void {
    checkAccess(this, this.name, 'write', offset, data.length);
    this.bytes.set(data, offset);
  }

  flush(): void {
    this.flushes++;
  }

  discard(offset: number, length: number): void {
    checkAccess(this, this.name, 'discard', offset, length);
    this.bytes.fill(0, offset, offset + length);
  }
}
