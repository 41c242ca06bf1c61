// Software TLBs: direct-mapped caches from a virtual 4 KiB page to the byte offset of that
// page's RAM inside guest memory. Only RAM pages whose every access of the kind is allowed
// (paging permissions, A/D already set, PMP) are cached; everything else takes the slow path.

export const TLB_ENTRIES = 8192;
/** A virtual page number's entry: (address >>> 12) & TLB_INDEX_MASK. */
export const TLB_INDEX_MASK = TLB_ENTRIES - 1;

/**
 * The tag of an empty entry. Lookups compare the tag with the address masked to its page
 * number plus, for an access of 2^n bytes, its low n bits (so a misaligned access misses),
 * ORed with the mode bits of the access (tlbMode, bits 4-7); bits 3 and 8-11 are therefore
 * always clear in a lookup key, and no address, aligned or not, in any mode, can match a tag
 * with bit 11 set. Every fast path, in the interpreter or in translated code, must build its
 * key that way.
 */
export const INVALID_TAG = 0x800;

/**
 * The mode bits of a TLB entry: the privilege its accesses were checked for and, for data,
 * mstatus.SUM and MXR. Entries of several modes live side by side, so a trap to the kernel
 * and the return to the program keep each other's entries instead of flushing them.
 */
export function tlbMode(priv: number, sum: boolean, mxr: boolean): number {
  return (priv << 4) | (sum ? 0x40 : 0) | (mxr ? 0x80 : 0);
}

/** The mask a lookup applies to the low address word for an access of `size` bytes. */
export function tagMask(size: 1 | 2 | 4 | 8): number {
  return (0xfffff000 | (size - 1)) | 0;
}

/** Bytes one TLB takes: tagLo, tagHi and base arrays of TLB_ENTRIES words, in that order. */
export const TLB_BYTES = 3 * 4 * TLB_ENTRIES;
/** Byte offsets of the arrays inside a TLB, for code that probes it in memory. */
export const TLB_TAG_HI = 4 * TLB_ENTRIES;
export const TLB_BASE = 8 * TLB_ENTRIES;

const TWO20 = 1 << 20;
/** Superpage sizes in Sv39/Sv48, as log2 of 4 KiB pages: 2 MiB, 1 GiB, 512 GiB. */
const SUPERPAGE_SHIFTS = [9, 18, 27];
/** 2 ** shift for the shifts above, read from a table: a variable `**` is a call to pow. */
const PAGES_IN = new Map(SUPERPAGE_SHIFTS.map((shift) => [shift, 2 ** shift]));
/**
 * How many non-global fills are remembered for flushNonGlobal; past that, a full flush is
 * about as cheap as visiting them one by one.
 */
const LOCAL_LIMIT = TLB_ENTRIES / 4;

function regionKey(page: number, shift: number): number {
  return Math.floor(page / PAGES_IN.get(shift)!) * 32 + shift;
}

export class Tlb {
  readonly tagLo: Int32Array;
  readonly tagHi: Int32Array;
  readonly base: Int32Array;
  /**
   * The superpages entries were cached from since the last flush, as region * 32 + log2 of
   * the pages they map, with the sizes seen: an address-specific flush that falls in one of
   * them drops everything (the kernel rarely remaps its linear map; user pages are small).
   */
  private readonly superpages = new Set<number>();
  private superpageShifts = 0;
  /**
   * Indices filled with non-global translations since the last flush (LOCAL_LIMIT + 1 once
   * there were more): what an address-space switch drops, keeping the kernel's global pages.
   */
  private readonly local = new Int32Array(LOCAL_LIMIT);
  private localCount = 0;

  /** A TLB in `buffer` at `byteOffset` (shared with translated code), or on its own. */
  constructor(buffer: ArrayBufferLike = new ArrayBuffer(TLB_BYTES), byteOffset = 0) {
    this.tagLo = new Int32Array(buffer, byteOffset, TLB_ENTRIES);
    this.tagHi = new Int32Array(buffer, byteOffset + TLB_TAG_HI, TLB_ENTRIES);
    this.base = new Int32Array(buffer, byteOffset + TLB_BASE, TLB_ENTRIES);
    this.flush();
  }

  flush(): void {
    this.tagLo.fill(INVALID_TAG);
    this.superpages.clear();
    this.superpageShifts = 0;
    this.localCount = 0;
  }

  /**
   * Drops every entry not filled from a global mapping (PTE.G): what a change of address
   * space may change. Entries of other modes that happened to replace one go too.
   */
  flushNonGlobal(): void {
    if (this.localCount > LOCAL_LIMIT) {
      this.flush();
      return;
    }
    for (let k = 0; k < this.localCount; k++) this.tagLo[this.local[k]!] = INVALID_TAG;
    this.localCount = 0;
  }

  /**
   * Drops what translates the virtual page of (vLo, vHi): its entry, and entries cached from
   * a superpage that covers it (SFENCE.VMA with an address, Priv. spec 4.2.1).
   */
  flushPage(vLo: number, vHi: number): void {
    const i = (vLo >>> 12) & TLB_INDEX_MASK;
    if ((this.tagLo[i]! & ~0xfff) === (vLo & ~0xfff) && this.tagHi[i] === vHi) this.tagLo[i] = INVALID_TAG;
    if (this.superpageShifts === 0) return;
    const page = (vHi >>> 0) * TWO20 + (vLo >>> 12);
    for (const shift of SUPERPAGE_SHIFTS) {
      if ((this.superpageShifts & (1 << shift)) !== 0 && this.superpages.has(regionKey(page, shift))) {
        this.flush();
        return;
      }
    }
  }

  /** Empties the entry at `index`. */
  invalidate(index: number): void {
    this.tagLo[index] = INVALID_TAG;
  }

  /**
   * Caches a page for accesses in `mode` (tlbMode); `superpageShift` is log2 of the pages its
   * leaf PTE maps (0 for a 4 KiB page or no paging); `global` when the mapping is the same in
   * every address space (M-mode's, or PTE.G on the walk).
   */
  fill(vLo: number, vHi: number, pageOffset: number, mode: number, superpageShift = 0, global = false): void {
    const i = (vLo >>> 12) & TLB_INDEX_MASK;
    if (!global && this.localCount <= LOCAL_LIMIT) {
      if (this.localCount < LOCAL_LIMIT) this.local[this.localCount] = i;
      this.localCount++;
    }
    if (superpageShift !== 0) {
      // Regions whose entries were all replaced stay listed until a flush: bound them.
      if (this.superpages.size >= 4 * TLB_ENTRIES) this.flush();
      this.superpages.add(regionKey((vHi >>> 0) * TWO20 + (vLo >>> 12), superpageShift));
      this.superpageShifts |= 1 << superpageShift;
    }
    this.tagLo[i] = (vLo & ~0xfff) | mode;
    this.tagHi[i] = vHi;
    this.base[i] = pageOffset;
  }

  /** The guest-memory byte offset of an access of `size` bytes at (vLo, vHi) when it hits, else -1. */
  offsetOf(vLo: number, vHi: number, size: 1 | 2 | 4 | 8, mode: number): number {
    const i = (vLo >>> 12) & TLB_INDEX_MASK;
    if (this.tagLo[i] !== ((vLo & tagMask(size)) | mode) || this.tagHi[i] !== vHi) return -1;
    return (this.base[i]! + (vLo & 0xfff)) >>> 0;
  }

  /** Whether an access of `size` bytes at (vLo, vHi) hits, as the fast paths test it. */
  hits(vLo: number, vHi: number, size: 1 | 2 | 4 | 8, mode: number): boolean {
    const i = (vLo >>> 12) & TLB_INDEX_MASK;
    return this.tagLo[i] === ((vLo & tagMask(size)) | mode) && this.tagHi[i] === vHi;
  }
}
