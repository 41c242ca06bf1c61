// A DmaMemory over one byte array mapped at a guest-physical base: the board wraps its RAM in
// it (with `onWrite` dropping stale decoded instructions), tests a small Uint8Array.

import type { DmaMemory } from './dma-memory.js';

export interface RamDmaMemoryOptions {
  /** Guest-physical address of bytes[0]. */
  base: number;
  /** The RAM itself; views returned by read() alias it. */
  bytes: Uint8Array;
  /** Called after every successful write, e.g. to invalidate cached instructions in that range. */
  onWrite?: (paddr: number, length: number) => void;
  /** Called before every access, e.g. to fill RAM a lazy restore has not read yet. */
  beforeAccess?: (paddr: number, length: number) => void;
}

export class RamDmaMemory implements DmaMemory {
  readonly base: number;
  readonly bytes: Uint8Array;
  private readonly onWrite: ((paddr: number, length: number) => void) | undefined;
  private readonly beforeAccess: ((paddr: number, length: number) => void) | undefined;

  constructor(options: RamDmaMemoryOptions) {
    this.base = options.base;
    this.bytes = options.bytes;
    this.onWrite = options.onWrite;
    this.beforeAccess = options.beforeAccess;
  }

  /** Offset of [paddr, paddr + length) in `bytes`, or -1 when any byte is outside. */
  private offsetOf(paddr: number, length: number): number {
    if (!Number.isSafeInteger(paddr) || !Number.isSafeInteger(length) || length < 0) return -1;
    const offset = paddr - this.base;
    return offset >= 0 && offset + length <= this.bytes.length ? offset : -1;
  }

  read(paddr: number, length: number): Uint8Array | null {
    const offset = this.offsetOf(paddr, length);
    if (offset < 0) return null;
    this.beforeAccess?.(paddr, length);
    return this.bytes.subarray(offset, offset + length);
  }

  write(paddr: number, data: Uint8Array): boolean {
    const offset = this.offsetOf(paddr, data.length);
    if (offset < 0) return false;
    this.beforeAccess?.(paddr, data.length);
    this.bytes.set(data, offset);
    this.onWrite?.(paddr, data.length);
    return true;
  }
}
