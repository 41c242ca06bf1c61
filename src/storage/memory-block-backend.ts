// A disk held in memory: for tests, scratch disks and disks built on the fly.

import { BlockBackendError, SECTOR_SIZE, checkAccess, checkResize, type BlockBackend } from './block-backend.js';

export interface MemoryBlockBackendOptions {
  /** Initial contents (copied); its length is the disk size. Or give `size` for a zeroed disk. */
  contents?: Uint8Array;
  size?: number;
  readOnly?: boolean;
  /** Name in error messages (default "memory disk"). */
  name?: string;
}

export class MemoryBlockBackend implements BlockBackend {
  readonly readOnly: boolean;
  /** The disk's bytes (tests inspect them); replaced by a larger copy on resize. */
  bytes: Uint8Array;
  /** Number of flush() calls (tests check that the device flushed). */
  flushes = 0;
  private readonly name: string;
  private closed = false;

  constructor(options: MemoryBlockBackendOptions) {
    this.name = options.name ?? 'memory disk';
    const size = options.contents?.length ?? options.size ?? 0;
    if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0) {
      throw new BlockBackendError('bad-size', `cannot create ${this.name} of ${size} bytes: the size must be a positive multiple of ${SECTOR_SIZE}`, { path: this.name, op: 'open' });
    }
    this.readOnly = options.readOnly ?? false;
    this.bytes = options.contents ? options.contents.slice() : new Uint8Array(size);
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, into: Uint8Array): Promise<void> {
    this.checkOpen('read');
    checkAccess(this, this.name, 'read', offset, into.length);
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  async write(offset: number, data: Uint8Array): Promise<void> {
    this.checkOpen('write');
    checkAccess(this, this.name, 'write', offset, data.length);
    this.bytes.set(data, offset);
  }

  async flush(): Promise<void> {
    this.checkOpen('flush');
    this.flushes++;
  }

  async discard(offset: number, length: number): Promise<void> {
    this.checkOpen('discard');
    checkAccess(this, this.name, 'discard', offset, length);
    this.bytes.fill(0, offset, offset + length);
  }

  async writeZeroes(offset: number, length: number): Promise<void> {
    this.checkOpen('write-zeroes');
    checkAccess(this, this.name, 'write-zeroes', offset, length);
    this.bytes.fill(0, offset, offset + length);
  }

  async resize(newSize: number): Promise<void> {
    this.checkOpen('resize');
    checkResize(this, this.name, newSize);
    const grown = new Uint8Array(newSize);
    grown.set(this.bytes);
    this.bytes = grown;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(op: 'read' | 'write' | 'flush' | 'discard' | 'write-zeroes' | 'resize'): void {
    if (this.closed) throw new BlockBackendError('closed', `cannot ${op} ${this.name}: it was closed`, { path: this.name, op });
  }
}
