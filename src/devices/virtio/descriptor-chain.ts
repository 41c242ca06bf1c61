// One request taken from a virtqueue: the guest buffers of a descriptor chain, split into the
// device-readable part and the device-writable part that follows it (virtio 1.2 section 2.7.4.2).
// Devices read and write through it by byte offset, so they never depend on how the driver
// framed the request across descriptors (section 2.7.4: no layout assumptions).

import type { DmaMemory } from './dma-memory.js';

/** One guest buffer: `len` bytes at guest-physical `addr`. Its addresses are NOT yet checked against RAM. */
export interface GuestBuffer {
  readonly addr: number;
  readonly len: number;
}

export class DescriptorChain {
  /** Descriptor index of the chain's head: what goes back in the used ring. */
  readonly head: number;
  readonly readable: readonly GuestBuffer[];
  readonly writable: readonly GuestBuffer[];
  /** Total bytes of the device-readable buffers. */
  readonly readableLength: number;
  /** Total bytes of the device-writable buffers. */
  readonly writableLength: number;

  constructor(head: number, readable: readonly GuestBuffer[], writable: readonly GuestBuffer[]) {
    this.head = head;
    this.readable = readable;
    this.writable = writable;
    this.readableLength = readable.reduce((sum, b) => sum + b.len, 0);
    this.writableLength = writable.reduce((sum, b) => sum + b.len, 0);
  }

  /**
   * The guest ranges covering bytes [offset, offset + length) of the readable or writable part,
   * or null when that range runs past the part's end.
   */
  ranges(part: 'readable' | 'writable', offset: number, length: number): GuestBuffer[] | null {
    const buffers = part === 'readable' ? this.readable : this.writable;
    const total = part === 'readable' ? this.readableLength : this.writableLength;
    if (offset < 0 || length < 0 || offset + length > total) return null;
    const out: GuestBuffer[] = [];
    let skip = offset;
    let left = length;
    for (const b of buffers) {
      if (left === 0) break;
      if (skip >= b.len) {
        skip -= b.len;
        continue;
      }
      const n = Math.min(b.len - skip, left);
      out.push({ addr: b.addr + skip, len: n });
      skip = 0;
      left -= n;
    }
    return out;
  }

  /** Copies readable bytes [offset, offset + into.length) into `into`; false when past the end or outside RAM. */
  readInto(memory: DmaMemory, offset: number, into: Uint8Array): boolean {
    const ranges = this.ranges('readable', offset, into.length);
    if (ranges === null) return false;
    let at = 0;
    for (const r of ranges) {
      const bytes = memory.read(r.addr, r.len);
      if (bytes === null) return false;
      into.set(bytes, at);
      at += r.len;
    }
    return true;
  }

  /** Readable bytes [offset, offset + length) as a new array, or null when past the end or outside RAM. */
  read(memory: DmaMemory, offset: number, length: number): Uint8Array | null {
    const into = new Uint8Array(length);
    return this.readInto(memory, offset, into) ? into : null;
  }

  /**
   * Writes `data` at byte `offset` of the writable part; false when past the end or a buffer is
   * outside RAM (the bytes before the bad buffer may have been written, as on real hardware).
   */
  write(memory: DmaMemory, offset: number, data: Uint8Array): boolean {
    const ranges = this.ranges('writable', offset, data.length);
    if (ranges === null) return false;
    let at = 0;
    for (const r of ranges) {
      if (!memory.write(r.addr, data.subarray(at, at + r.len))) return false;
      at += r.len;
    }
    return true;
  }
}
