// Which harts hold decoded instructions of each RAM page, for harts on several threads. Each
// hart's decoded-instruction cache is its own; a store by one hart (or a device) to a page that
// others decoded marks their caches stale, and their next FENCE.I (the guest's promise that it
// synchronised code) drops them. A FENCE.I with nothing stale costs nothing, which matters
// because Linux issues one for every instruction it patches.

export class CodeMap {
  /** Per RAM page, bit h set while hart h holds decoded code from it. */
  private readonly holders: Uint8Array;
  /** Per hart, bumped when code it decoded may have changed under it. */
  private readonly stale: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly pages: number) {
    this.holders = new Uint8Array(buffer, 0, pages);
    this.stale = new Int32Array(buffer, Math.ceil(pages / 4) * 4);
  }

  /** A map for `pages` RAM pages and up to 8 harts, in memory the harts' threads share. */
  static create(pages: number): CodeMap {
    return new CodeMap(new SharedArrayBuffer(Math.ceil(pages / 4) * 4 + 8 * 4), pages);
  }

  /** The harts (bit per hart) holding decoded code from page `index`. */
  holdersOf(index: number): number {
    return Atomics.load(this.holders, index);
  }

  claim(index: number, hartBit: number): void {
    Atomics.or(this.holders, index, hartBit);
  }

  /** The hart dropped what it decoded from page `index`. */
  release(index: number, hartBit: number): void {
    Atomics.and(this.holders, index, ~hartBit);
  }

  /** The hart dropped everything it decoded. */
  releaseAll(hartBit: number): void {
    const holders = this.holders;
    for (let i = 0; i < holders.length; i++) if ((holders[i]! & hartBit) !== 0) Atomics.and(holders, i, ~hartBit);
  }

  /** Page `index` was written by the hart with `writerBit` (0: a device): every other holder is stale. */
  written(index: number, writerBit: number): void {
    const others = this.holders[index]! & ~writerBit;
    if (others === 0) return;
    for (let hart = 0; hart < 8; hart++) if ((others & (1 << hart)) !== 0) Atomics.add(this.stale, hart, 1);
  }

  staleCount(hartId: number): number {
    return Atomics.load(this.stale, hartId);
  }
}
