// Decoded instructions per page of RAM, shared by every hart of a VM. A page that holds
// decoded code is write-protected in all write TLBs, so every store to it takes the slow
// path, which drops the page: self-modifying code stays exact without checks on fast paths.

import type { Tlb } from './tlb.js';
import { TLB_ENTRIES } from './tlb.js';

/** Int32 words per decoded page: two per 2-byte slot (packed fields, immediate or word). */
export const DECODE_PAGE_WORDS = 4096;

export class DecodeCache {
  private pages: (Int32Array | undefined)[];
  private readonly writeTlbs: Tlb[] = [];

  constructor(private readonly ramOffset: number, ramSize: number) {
    this.pages = new Array<Int32Array | undefined>(ramSize / 4096);
  }

  /** Write TLBs that must never map a page holding decoded code. */
  register(writeTlb: Tlb): void {
    this.writeTlbs.push(writeTlb);
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
        for (let i = 0; i < TLB_ENTRIES; i++) if (tlb.base[i] === (pageOffset | 0)) tlb.tagLo[i] = 1;
      }
    }
    return page;
  }

  /** Called for a write at a guest-memory byte offset in RAM; true if decoded code was dropped. */
  written(offset: number): boolean {
    const index = (offset - this.ramOffset) >>> 12;
    if (this.pages[index] === undefined) return false;
    this.pages[index] = undefined;
    return true;
  }

  clear(): void {
    this.pages = new Array<Int32Array | undefined>(this.pages.length);
  }
}
