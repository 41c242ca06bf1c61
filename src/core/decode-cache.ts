// Decoded instructions per page of RAM, shared by every hart of a VM. A page that holds
// decoded code is write-protected in all write TLBs, so every store to it takes the slow
// path, which forgets the instructions it overwrites: self-modifying code stays exact
// without checks on the fast paths.

import type { Tlb } from './tlb.js';
import { TLB_ENTRIES } from './tlb.js';
import type { CodeMap } from './code-map.js';

/** Int32 words per decoded page: two per 2-byte slot (packed fields, immediate or word). */
export const DECODE_PAGE_WORDS = 4096;
/**
 * Stores to a page holding decoded code after which the page is taken for data and dropped
 * whole: RAM that held code (a freed initramfs, exited programs) is reused for anything, and
 * while it held decoded code every store to it took the slow path.
 */
export const DROP_AFTER_WRITES = 16;

export class DecodeCache {
  private readonly pages: (Int32Array | undefined)[];
  /** Per page, stores since its instructions were first decoded (saturating at DROP_AFTER_WRITES). */
  private readonly writes: Uint8Array;
  private readonly writeTlbs: Tlb[] = [];
  private readonly listeners: Array<(pageOffset: number) => void> = [];
  /** With harts on several threads: the shared map, and this cache's hart as a bit (0: no hart, the devices' thread). */
  private readonly codeMap: CodeMap | null;
  private readonly hartBit: number;
  private readonly hartId: number;
  private staleSeen = 0;

  constructor(private readonly ramOffset: number, ramSize: number, shared?: { codeMap: CodeMap; hartId: number | null }) {
    // Filled, not `new Array(n)`: V8 gives a large empty array slow dictionary elements, and
    // the interpreter's optimized code a different kind of array than small RAMs (its warm-up) give.
    this.pages = Array.from({ length: ramSize / 4096 }, () => undefined);
    this.writes = new Uint8Array(ramSize / 4096);
    this.codeMap = shared?.codeMap ?? null;
    this.hartId = shared?.hartId ?? -1;
    this.hartBit = this.hartId >= 0 ? 1 << this.hartId : 0;
  }

  /** Write TLBs that must never map a page holding decoded code (with several threads: every hart's). */
  register(writeTlb: Tlb): void {
    this.writeTlbs.push(writeTlb);
  }

  /** Whether code this cache holds may have been changed by another hart or a device since it was last cleared. */
  get stale(): boolean {
    return this.codeMap !== null && this.hartId >= 0 && this.codeMap.staleCount(this.hartId) !== this.staleSeen;
  }

  /**
   * Calls `listener` with a page's guest-memory offset whenever code in it may have changed
   * (a store or DMA into a page holding decoded code), and with -1 when everything is dropped.
   */
  onCodeChange(listener: (pageOffset: number) => void): void {
    this.listeners.push(listener);
  }

  /** Whether the page at this guest-memory byte offset holds decoded code (of any hart). */
  holds(pageOffset: number): boolean {
    const index = (pageOffset - this.ramOffset) >>> 12;
    return this.codeMap !== null ? this.codeMap.holdersOf(index) !== 0 : this.pages[index] !== undefined;
  }

  /** The decoded page for the RAM page at this guest-memory byte offset, created on first use. */
  page(pageOffset: number): Int32Array {
    const index = (pageOffset - this.ramOffset) >>> 12;
    let page = this.pages[index];
    if (page === undefined) {
      page = new Int32Array(DECODE_PAGE_WORDS);
      this.pages[index] = page;
      this.writes[index] = 0;
      // Claimed before the TLBs are searched: a hart filling its write TLB meanwhile looks again after (Hart.fillTlb).
      this.codeMap?.claim(index, this.hartBit);
      for (const tlb of this.writeTlbs) {
        for (let i = 0; i < TLB_ENTRIES; i++) if (tlb.base[i] === (pageOffset | 0)) tlb.invalidate(i);
      }
    }
    return page;
  }

  /**
   * Called for a store of `size` bytes at a guest-memory byte offset in RAM: forgets the
   * instructions that overlap it (one starting up to 2 bytes earlier may reach into it), or
   * the whole page once it took DROP_AFTER_WRITES stores. True when the page was dropped: a
   * loop holding its decoded instructions must fetch them again.
   */
  written(offset: number, size: number): boolean {
    const index = (offset - this.ramOffset) >>> 12;
    this.codeMap?.written(index, this.hartBit);
    const page = this.pages[index];
    if (page === undefined) return false;
    for (const listener of this.listeners) listener(offset - (offset % 4096));
    if (++this.writes[index]! >= DROP_AFTER_WRITES) {
      this.pages[index] = undefined;
      this.codeMap?.release(index, this.hartBit);
      return true;
    }
    const first = Math.max(0, (offset & 0xffe) - 2);
    const last = Math.min(0xffe, (offset + size - 1) & 0xfff);
    for (let slot = first; slot <= last; slot += 2) page[slot] = 0;
    return false;
  }

  /** Drops every decoded instruction of the pages in [offset, offset + length). */
  drop(offset: number, length: number): void {
    for (let page = offset - (offset % 4096); page < offset + length; page += 4096) {
      const index = (page - this.ramOffset) >>> 12;
      this.codeMap?.written(index, this.hartBit);
      if (this.pages[index] === undefined) continue;
      this.pages[index] = undefined;
      for (const listener of this.listeners) listener(page);
    }
  }

  /** RAM pages holding decoded instructions (each costs the host 16 KiB). */
  get pageCount(): number {
    let count = 0;
    for (const page of this.pages) if (page !== undefined) count++;
    return count;
  }

  clear(): void {
    this.pages.fill(undefined);
    if (this.codeMap !== null && this.hartId >= 0) {
      this.staleSeen = this.codeMap.staleCount(this.hartId);
      this.codeMap.releaseAll(this.hartBit);
    }
    for (const listener of this.listeners) listener(-1);
  }
}
