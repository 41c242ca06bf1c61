// Decoded instructions per page of RAM, shared by every hart of a VM. A page that holds
// decoded code is write-protected in all write TLBs, so every store to it takes the slow
// path, which forgets the instructions it overwrites: self-modifying code stays exact
// without checks on the fast paths.

import type { Tlb } from './tlb.js';
import { TLB_ENTRIES } from './tlb.js';

/** Int32 words per decoded page: two per 2-byte slot (packed fields, immediate or word). */
export const DECODE_PAGE_WORDS = 4096;

export class DecodeCache {
  private pages: (Int32Array | undefined)[];
  private readonly writeTlbs: Tlb[] = [];
  private readonly listeners: Array<(pageOffset: number) => void> = [];

  constructor(private readonly ramOffset: number, ramSize: number) {
    this.pages = new Array<Int32Array | undefined>(ramSize / 4096);
  }

  /** Write TLBs that must never map a page holding decoded code. */
  register(writeTlb: Tlb): void {
    this.writeTlbs.push(writeTlb);
  }

  /**
   * Calls `listener` with a page's guest-memory offset whenever code in it may have changed
   * (a store or DMA into a page holding decoded code), and with -1 when everything is dropped.
   */
  onCodeChange(listener: (pageOffset: number) => void): void {
    this.listeners.push(listener);
  }

  /** Whether the page at this guest-memory byte offset holds decoded code. */
  holds(pageOffset: number): boolean {
    return this.pages[(pageOffset - this.ramOffset) >>> 12] !== undefined;
  }

  /** The decoded page for the RAM page at this guest-memory byte offset, created on first use. */
  page(pageOffset: number): Int32Array {
    const index = (pageOffset - this.ramOffset) >>> 12;
    let page = this.pages[index];
    if (page === undefined) {
      page = new Int32Array(DECODE_PAGE_WORDS);
      this.pages[index] = page;
      for (const tlb of this.writeTlbs) {
        for (let i = 0; i < TLB_ENTRIES; i++) if (tlb.base[i] === (pageOffset | 0)) tlb.invalidate(i);
      }
    }
    return page;
  }

  /**
   * Called for a store of `size` bytes at a guest-memory byte offset in RAM: forgets the
   * instructions that overlap it (one starting up to 2 bytes earlier may reach into it).
   */
  written(offset: number, size: number): void {
    const page = this.pages[(offset - this.ramOffset) >>> 12];
    if (page === undefined) return;
    for (const listener of this.listeners) listener(offset - (offset % 4096));
    const first = Math.max(0, (offset & 0xffe) - 2);
    const last = Math.min(0xffe, (offset + size - 1) & 0xfff);
    for (let slot = first; slot <= last; slot += 2) page[slot] = 0;
  }

  /** Drops every decoded instruction of the pages in [offset, offset + length). */
  drop(offset: number, length: number): void {
    for (let page = offset - (offset % 4096); page < offset + length; page += 4096) {
      const index = (page - this.ramOffset) >>> 12;
      if (this.pages[index] === undefined) continue;
      this.pages[index] = undefined;
      for (const listener of this.listeners) listener(page);
    }
  }

  clear(): void {
    this.pages = new Array<Int32Array | undefined>(this.pages.length);
    for (const listener of this.listeners) listener(-1);
  }
}
