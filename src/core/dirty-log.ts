// Which pages of RAM the guest (or a device's DMA) wrote since the log was last read: live
// migration copies RAM while the guest runs and then sends again only what changed. It works
// as write protection does on hardware: reading the log empties every write TLB, so the first
// store to each page afterwards takes the slow path, which marks the page. With harts on
// several threads the flags live in shared memory, so a hart thread's marks reach the reader;
// the reader then keeps the harts still while it reads and protects (Machine.takeDirtyPages).

import type { Tlb } from './tlb.js';

export class DirtyLog {
  /** One byte per RAM page, set when written while logging. */
  private readonly flags: Uint8Array;
  /** Word 0: 1 while logging (marking is then a single test when not). */
  private readonly state: Int32Array;
  private readonly writeTlbs: Tlb[] = [];

  /** Bytes of the memory a log of `pageCount` pages keeps its flags in. */
  static bytesFor(pageCount: number): number {
    return Math.ceil(pageCount / 4) * 4 + 4;
  }

  /**
   * A log over `pageCount` RAM pages starting at `ramOffset` in guest memory, its flags in
   * `buffer` (a SharedArrayBuffer that hart threads share; default: its own memory).
   */
  constructor(private readonly ramOffset: number, private readonly pageCount: number, readonly buffer: ArrayBufferLike = new ArrayBuffer(DirtyLog.bytesFor(pageCount))) {
    this.flags = new Uint8Array(buffer, 0, pageCount);
    this.state = new Int32Array(buffer, Math.ceil(pageCount / 4) * 4, 1);
  }

  /** A write TLB whose entries let stores bypass the slow path. */
  register(writeTlb: Tlb): void {
    this.writeTlbs.push(writeTlb);
  }

  get logging(): boolean {
    return this.state[0] !== 0;
  }

  /** Starts logging with every page clean. */
  start(): void {
    this.flags.fill(0);
    Atomics.store(this.state, 0, 1);
    this.protect();
  }

  stop(): void {
    Atomics.store(this.state, 0, 0);
  }

  /** Marks the pages of [offset, offset + length), offsets in guest memory, as written. */
  mark(offset: number, length: number): void {
    if (this.state[0] === 0) return;
    const flags = this.flags;
    const first = (offset - this.ramOffset) >>> 12;
    const last = (offset + Math.max(length, 1) - 1 - this.ramOffset) >>> 12;
    for (let page = first; page <= last && page < this.pageCount; page++) flags[page] = 1;
  }

  /** The pages written since start() or the last take(), in order; they are clean again afterwards. */
  take(): number[] {
    if (!this.logging) return [];
    const flags = this.flags;
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
