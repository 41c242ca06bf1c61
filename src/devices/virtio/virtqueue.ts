// A split virtqueue (virtio 1.2 section 2.7): only the ring's state lives here; guest memory is
// passed to every operation. A malformed ring (bad index, loop, chain too long, ring outside
// RAM) throws VirtqueueError, which the transport turns into DEVICE_NEEDS_RESET (section 2.1.2).

import { DescriptorChain, type GuestBuffer } from './descriptor-chain.js';
import { readU16, writeU16, writeU32, type DmaMemory } from './dma-memory.js';

/** Descriptor flags (2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** avail.flags (2.7.6): the driver asks for no used-buffer interrupts. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Largest split queue size (2.7). */
export const VIRTQ_MAX_SIZE = 32768;

const DESC_SIZE = 16;

export type VirtqueueErrorReason =
  | 'bad-configuration' // size or ring addresses rejected when the queue is enabled
  | 'ring-outside-ram'
  | 'avail-index' // the driver claims more new buffers than the queue holds
  | 'bad-descriptor-index'
  | 'chain-too-long' // also how descriptor loops show up
  | 'nested-indirect'
  | 'indirect-not-negotiated'
  | 'bad-indirect-table'
  | 'readable-after-writable';

export class VirtqueueError extends Error {
  override readonly name = 'VirtqueueError';
  readonly kind = 'virtqueue';
  readonly reason: VirtqueueErrorReason;
  /** Queue index, filled in by whoever knows it (-1 when unknown). */
  queue: number;

  constructor(reason: VirtqueueErrorReason, message: string, options?: { queue?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.queue = options?.queue ?? -1;
  }
}

/** Named, versioned ring state for save/restore. */
export interface VirtqueueState {
  version: 1;
  size: number;
  ready: boolean;
  descAddr: number;
  driverAddr: number;
  deviceAddr: number;
  lastAvailIdx: number;
  usedIdx: number;
  notifiedUsedIdx: number;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export class Virtqueue {
  /** The size the device offers (QueueNumMax). */
  readonly maxSize: number;
  /** Queue size the driver chose (QueueNum); a power of two up to maxSize once ready. */
  size: number;
  ready = false;
  /** Descriptor table, driver area (avail ring), device area (used ring): guest-physical. */
  descAddr = 0;
  driverAddr = 0;
  deviceAddr = 0;
  /** Negotiated ring features, set by the transport at FEATURES_OK. */
  indirect = false;
  eventIdx = false;
  private lastAvailIdx = 0;
  private usedIdx = 0;
  /** usedIdx when the driver was last considered for an interrupt (for EVENT_IDX). */
  private notifiedUsedIdx = 0;

  constructor(maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > VIRTQ_MAX_SIZE || (maxSize & (maxSize - 1)) !== 0) {
      throw new VirtqueueError('bad-configuration', `queue size ${maxSize} must be a power of two from 1 to ${VIRTQ_MAX_SIZE}`);
    }
    this.maxSize = maxSize;
    this.size = maxSize;
  }

  /** Back to the reset state (device reset, or the driver disabling the queue). */
  reset(): void {
    this.size = this.maxSize;
    this.ready = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0;
    this.indirect = this.eventIdx = false;
    this.lastAvailIdx = this.usedIdx = this.notifiedUsedIdx = 0;
  }

  /** QueueReady written 0: the queue stops; its size and addresses stay for the driver to reuse. */
  disable(): void {
    this.ready = false;
    this.lastAvailIdx = this.usedIdx = this.notifiedUsedIdx = 0;
  }

  /**
   * Checks the driver's configuration as the queue is enabled; throws VirtqueueError when the
   * size is not a power of two up to maxSize, a ring is misaligned (2.7 table) or outside RAM.
   */
  enable(memory: DmaMemory): void {
    const n = this.size;
    if (n < 1 || n > this.maxSize || (n & (n - 1)) !== 0) {
      throw new VirtqueueError('bad-configuration', `queue size ${n} is not a power of two from 1 to ${this.maxSize}`);
    }
    if (this.descAddr % 16 !== 0 || this.driverAddr % 2 !== 0 || this.deviceAddr % 4 !== 0) {
      throw new VirtqueueError('bad-configuration', `ring addresses ${hex(this.descAddr)}/${hex(this.driverAddr)}/${hex(this.deviceAddr)} are misaligned (need 16/2/4)`);
    }
    if (memory.read(this.descAddr, DESC_SIZE * n) === null || memory.read(this.driverAddr, 6 + 2 * n) === null || memory.read(this.deviceAddr, 6 + 8 * n) === null) {
      throw new VirtqueueError('ring-outside-ram', `a ring of the ${n}-entry queue lies outside guest RAM (desc ${hex(this.descAddr)}, driver ${hex(this.driverAddr)}, device ${hex(this.deviceAddr)})`);
    }
    // The used ring's idx is the device's to own; start where the driver expects (0 after reset).
    this.lastAvailIdx = this.usedIdx = this.notifiedUsedIdx = 0;
    this.ready = true;
  }

  /** True when the driver has made buffers available that the device has not taken. */
  hasAvailable(memory: DmaMemory): boolean {
    if (!this.ready) return false;
    return this.availIdx(memory) !== this.lastAvailIdx;
  }

  /**
   * Takes the next available descriptor chain, or null when there is none. With EVENT_IDX it
   * also publishes avail_event so the driver notifies again for the next buffer (2.7.10).
   */
  pop(memory: DmaMemory): DescriptorChain | null {
    if (!this.ready) return null;
    const availIdx = this.availIdx(memory);
    const pending = (availIdx - this.lastAvailIdx) & 0xffff;
    if (pending > this.size) {
      throw new VirtqueueError('avail-index', `avail idx ${availIdx} is ${pending} ahead of the device's ${this.lastAvailIdx}, more than the queue size ${this.size}`);
    }
    if (pending === 0) {
      this.publishAvailEvent(memory);
      return null;
    }
    const head = this.load16(memory, this.driverAddr + 4 + 2 * (this.lastAvailIdx % this.size));
    const chain = this.walk(memory, head);
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    this.publishAvailEvent(memory);
    return chain;
  }

  /** Gives back the chain pop() returned last, for a device that cannot use it yet. */
  undoPop(): void {
    this.lastAvailIdx = (this.lastAvailIdx - 1) & 0xffff;
  }

  /** Returns a chain to the driver: `written` is how many bytes the device wrote into its writable buffers. */
  pushUsed(memory: DmaMemory, head: number, written: number): void {
    if (!this.ready) return;
    const slot = this.deviceAddr + 4 + 8 * (this.usedIdx % this.size);
    if (!writeU32(memory, slot, head) || !writeU32(memory, slot + 4, written)) this.outside('used ring entry', slot);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    // 2.7.8: the entry must be visible before idx; the run loop is single-threaded, order suffices.
    if (!writeU16(memory, this.deviceAddr + 2, this.usedIdx)) this.outside('used idx', this.deviceAddr + 2);
  }

  /**
   * Whether the driver wants a used-buffer interrupt for what was pushed since the last call:
   * used_event with EVENT_IDX (2.7.10), else the avail ring's NO_INTERRUPT flag (2.7.7).
   */
  needsInterrupt(memory: DmaMemory): boolean {
    if (!this.ready) return false;
    const old = this.notifiedUsedIdx;
    const now = this.usedIdx;
    this.notifiedUsedIdx = now;
    if (old === now) return false;
    if (this.eventIdx) {
      const usedEvent = this.load16(memory, this.driverAddr + 4 + 2 * this.size);
      // vring_need_event: interrupt when used_event lies in [old, now).
      return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
    }
    return (this.load16(memory, this.driverAddr) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  save(): VirtqueueState {
    return {
      version: 1,
      size: this.size,
      ready: this.ready,
      descAddr: this.descAddr,
      driverAddr: this.driverAddr,
      deviceAddr: this.deviceAddr,
      lastAvailIdx: this.lastAvailIdx,
      usedIdx: this.usedIdx,
      notifiedUsedIdx: this.notifiedUsedIdx,
    };
  }

  /** Restores ring state; ring features (indirect, eventIdx) come from the transport's negotiated features. */
  restore(state: VirtqueueState): void {
    if (state.version !== 1) throw new VirtqueueError('bad-configuration', `cannot restore virtqueue state version ${String(state.version)}; this build reads version 1`);
    const n = state.size;
    if (!Number.isInteger(n) || n < 1 || n > this.maxSize) {
      throw new VirtqueueError('bad-configuration', `cannot restore a virtqueue of size ${n} (this device allows up to ${this.maxSize}); corrupt snapshot?`);
    }
    this.size = n;
    this.ready = state.ready;
    this.descAddr = state.descAddr;
    this.driverAddr = state.driverAddr;
    this.deviceAddr = state.deviceAddr;
    this.lastAvailIdx = state.lastAvailIdx & 0xffff;
    this.usedIdx = state.usedIdx & 0xffff;
    this.notifiedUsedIdx = state.notifiedUsedIdx & 0xffff;
  }

  private availIdx(memory: DmaMemory): number {
    return this.load16(memory, this.driverAddr + 2);
  }

  private publishAvailEvent(memory: DmaMemory): void {
    if (!this.eventIdx) return;
    const at = this.deviceAddr + 4 + 8 * this.size;
    if (!writeU16(memory, at, this.lastAvailIdx)) this.outside('avail_event', at);
  }

  /**
   * Follows the chain from `head`: direct descriptors, then at most one indirect table
   * (2.7.5.3). Loops are caught by bounding the walk: a direct chain visits at most `size`
   * descriptors, an indirect table at most its own length, and a chain holds at most maxSize buffers.
   */
  private walk(memory: DmaMemory, head: number): DescriptorChain {
    if (head >= this.size) throw new VirtqueueError('bad-descriptor-index', `avail ring names descriptor ${head}, outside the ${this.size}-entry table`);
    const readable: GuestBuffer[] = [];
    const writable: GuestBuffer[] = [];
    let table = this.descAddr;
    let tableSize = this.size;
    let inIndirect = false;
    let index = head;
    let visitedInTable = 0;
    let total = 0;
    for (;;) {
      if (++visitedInTable > tableSize) {
        throw new VirtqueueError('chain-too-long', `descriptor chain from head ${head} visits more than the ${tableSize} descriptors of its ${inIndirect ? 'indirect ' : ''}table (a loop?)`);
      }
      const at = table + DESC_SIZE * index;
      const bytes = memory.read(at, DESC_SIZE);
      if (bytes === null) this.outside(inIndirect ? 'indirect descriptor' : 'descriptor', at);
      const lo = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24);
      const hi = bytes[4]! | (bytes[5]! << 8) | (bytes[6]! << 16) | (bytes[7]! << 24);
      const addr = (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
      const len = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16) | (bytes[11]! << 24)) >>> 0;
      const flags = bytes[12]! | (bytes[13]! << 8);
      const next = bytes[14]! | (bytes[15]! << 8);

      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (inIndirect) throw new VirtqueueError('nested-indirect', `descriptor ${index} of an indirect table is itself indirect (2.7.5.3.1)`);
        if (!this.indirect) throw new VirtqueueError('indirect-not-negotiated', `descriptor ${index} is indirect but VIRTIO_F_INDIRECT_DESC was not negotiated`);
        if (flags & VIRTQ_DESC_F_NEXT) throw new VirtqueueError('bad-indirect-table', `indirect descriptor ${index} also has NEXT set (2.7.5.3.1)`);
        if (len === 0 || len % DESC_SIZE !== 0) throw new VirtqueueError('bad-indirect-table', `indirect table length ${len} is not a positive multiple of 16`);
        table = addr;
        tableSize = len / DESC_SIZE;
        inIndirect = true;
        index = 0;
        visitedInTable = 0;
        continue;
      }
      // 2.7.5.3.1: at most Queue Size buffers per chain (the indirect descriptor itself is not one).
      if (++total > this.maxSize) throw new VirtqueueError('chain-too-long', `descriptor chain from head ${head} has more than ${this.maxSize} buffers`);
      if (flags & VIRTQ_DESC_F_WRITE) writable.push({ addr, len });
      else if (writable.length > 0) throw new VirtqueueError('readable-after-writable', `descriptor ${index} is device-readable but follows a device-writable one (2.7.4.2)`);
      else readable.push({ addr, len });

      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      if (next >= tableSize) throw new VirtqueueError('bad-descriptor-index', `descriptor ${index} chains to ${next}, outside the ${tableSize}-entry table`);
      index = next;
    }
    return new DescriptorChain(head, readable, writable);
  }

  private load16(memory: DmaMemory, paddr: number): number {
    const v = readU16(memory, paddr);
    if (v === null) this.outside('ring field', paddr);
    return v;
  }

  private outside(what: string, paddr: number): never {
    throw new VirtqueueError('ring-outside-ram', `${what} at ${hex(paddr)} is outside guest RAM`);
  }
}

