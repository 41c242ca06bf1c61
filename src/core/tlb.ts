// Software TLBs: direct-mapped caches from a virtual 4 KiB page to the byte offset of that
// page's RAM inside guest memory. Only RAM pages whose every access of the kind is allowed
// (paging permissions, A/D already set, PMP) are cached; everything else takes the slow path.

export const TLB_ENTRIES = 256;
/** A tag that no page-aligned address matches. */
const INVALID = 1;

export class Tlb {
  readonly tagLo = new Int32Array(TLB_ENTRIES).fill(INVALID);
  readonly tagHi = new Int32Array(TLB_ENTRIES);
  readonly base = new Int32Array(TLB_ENTRIES);

  flush(): void {
    this.tagLo.fill(INVALID);
  }

  fill(vLo: number, vHi: number, pageOffset: number): void {
    const i = (vLo >>> 12) & (TLB_ENTRIES - 1);
    this.tagLo[i] = vLo & ~0xfff;
    this.tagHi[i] = vHi;
    this.base[i] = pageOffset;
  }
}
