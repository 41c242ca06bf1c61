// Which pages of RAM the guest (or a device's DMA) wrote since the log was last read: live
// migration copies RAM while the guest runs and then sends again only what changed. It works
// as write protection does on hardware: reading the log empties every write TLB, so the first
// store to each page afterwards takes the slow path, which marks the page.

import type { Tlb } from './tlb.js';

export class DirtyLog {
  /** One byte per RAM page while logging, else null (marking is then a single test). */
  private flags: Uint8Array | null = null;
  private readonly writeTlbs: Tlb[] = [];

  constructor(private readonly ramOffset: number, private readonly pageCount: number) {}

  /** A write TLB whose entries let stores bypass the slow path. */
  register(writeTlb: Tlb): void {
    this.writeTlbs.push(writeTlb);
  }

  get logging(): boolean {
    return this.flags !== null;
  }

  /** Starts logging with every page clean. */
  start(): void {
    this.flags = new Uint8Array(this.pageCount);
    this.protect();
  }

  stop(): void {
    this.flags = null;
  }

  /** Marks the pages of [offset, offset + length), offsets in guest memory, as written. */
  mark(offset: number, length: number): void {
    const flags = this.flags;
    if (flags === null) return;
    const first = (offset - this.ramOffset) >>> 12;
    const last = (offset + Math.max(length, 1) - 1 - this.ramOffset) >>> 12;
    for (let page = first; page <= last && page < flags.length; page++) flags[page] = 1;
  }

  /** The pages written since start() or the last take(), in order; they are clean again afterwards. */
  take(): number[] {
    const flags = this.flags;
    if (flags === null) return [];
    const pages: number[] = [];
    for (let page = flags.indexOf(1); page !== -1; page = flags.indexOf(1, page + 1)) pages.push(page);
    flags.fill(0);
    this.protect();
    return pages;
  }

  private protect(): void {
    for (const tlb of this.writeTlbs) tlb.flush();
  }
}
