// One WebAssembly.Memory holds every hart's architectural state and the guest's RAM, so
// that the interpreter and code translated to WebAssembly later share them without copies.

import { HART_BLOCK_BYTES } from './hart-state.js';
import { DecodeCache } from './decode-cache.js';
import { DirtyLog } from './dirty-log.js';
import { CodeMap } from './code-map.js';

const WASM_PAGE = 65536;
/** Room after the hart blocks for the translation tier's tables (they index RAM, so one per VM). */
export const TRANSLATION_AREA_BYTES = 1280 * 1024;

export interface GuestMemoryOptions {
  /** Guest-physical address of the first byte of RAM (0x80000000 on the virt board). */
  ramBase: number;
  /** RAM size in bytes; a multiple of 4 KiB. */
  ramSize: number;
  /** Number of harts whose state blocks (and translation areas) precede RAM. */
  harts: number;
  /**
   * Harts running on several threads share one memory (a SharedArrayBuffer underneath), and
   * their atomics and fences then use the host's atomic operations.
   */
  shared?: boolean;
  /**
   * A hart thread's view: wrap this memory and code map (of a GuestMemory made with `shared`)
   * instead of allocating them; `translationArea` is then the hart's id.
   */
  existing?: { memory: WebAssembly.Memory; codeMap: SharedArrayBuffer; dirtyLog: SharedArrayBuffer };
  /** Whose translation area `translationOffset` names: each hart's thread has its own tier (default 0). */
  translationArea?: number;
}

/**
 * Fills RAM on demand, for a restore that has not read every page yet: told before the hart or
 * a device first touches [offset, offset + length) of guest memory (offsets into `memory`).
 */
export interface RamPager {
  ensure(offset: number, length: number): void;
}

/** RAM a pager could not fill (a damaged snapshot file): the guest cannot go on. */
export class RamFillError extends Error {
  readonly kind = 'ram-fill';
}

export class GuestMemoryError extends Error {
  readonly kind = 'guest-memory';
}

export class GuestMemory {
  readonly memory: WebAssembly.Memory;
  readonly ramBase: number;
  readonly ramSize: number;
  /** Byte offset of RAM inside `memory`. */
  readonly ramOffset: number;
  /** Byte offset of the translation tier's area (TRANSLATION_AREA_BYTES). */
  readonly translationOffset: number;
  readonly harts: number;
  /** Whether other threads access this memory at the same time (see GuestMemoryOptions.shared). */
  readonly shared: boolean;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  /** For 64-bit atomics on shared memory. */
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;
  readonly view: DataView;
  /** Decoded instructions, dropped when their RAM changes. */
  readonly decodeCache: DecodeCache;
  /** With harts on several threads: which of them decoded each page. */
  readonly codeMap: CodeMap | null;
  /** Pages written while live migration copies RAM. */
  readonly dirtyLog: DirtyLog;
  /** Set while RAM is still being filled lazily; null once every page is in. */
  pager: RamPager | null = null;

  constructor(options: GuestMemoryOptions) {
    const { ramBase, ramSize, harts } = options;
    if (!Number.isInteger(ramSize) || ramSize <= 0 || ramSize % 4096 !== 0) {
      throw new GuestMemoryError(`RAM size ${ramSize} must be a positive multiple of 4 KiB`);
    }
    if (ramBase % 4096 !== 0) throw new GuestMemoryError(`RAM base 0x${ramBase.toString(16)} must be page aligned`);
    const hartBytes = harts * HART_BLOCK_BYTES;
    const stateBytes = Math.ceil((hartBytes + harts * TRANSLATION_AREA_BYTES) / WASM_PAGE) * WASM_PAGE;
    const pages = (stateBytes + ramSize) / WASM_PAGE;
    if (!Number.isInteger(pages) || pages > 65536) {
      throw new GuestMemoryError(
        `RAM size ${ramSize / 1048576} MiB does not fit one WebAssembly memory (at most ${(65536 * WASM_PAGE - stateBytes) / 1048576} MiB, in 64 KiB steps)`,
      );
    }
    const existing = options.existing;
    if (existing !== undefined && existing.memory.buffer.byteLength !== pages * WASM_PAGE) {
      throw new GuestMemoryError(`the memory to wrap is ${existing.memory.buffer.byteLength} bytes, not the ${pages * WASM_PAGE} this layout needs`);
    }
    this.shared = existing !== undefined || options.shared === true;
    this.memory = existing?.memory ?? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: this.shared });
    this.ramBase = ramBase;
    this.ramSize = ramSize;
    this.ramOffset = stateBytes;
    const area = options.translationArea ?? 0;
    if (!Number.isInteger(area) || area < 0 || area >= harts) throw new GuestMemoryError(`translation area ${area} is not one of the ${harts} harts'`);
    this.translationOffset = hartBytes + area * TRANSLATION_AREA_BYTES;
    this.harts = harts;
    const buffer = this.memory.buffer;
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.i64 = new BigInt64Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.view = new DataView(buffer);
    this.codeMap = !this.shared ? null : existing !== undefined ? new CodeMap(existing.codeMap, ramSize / 4096) : CodeMap.create(ramSize / 4096);
    this.decodeCache = new DecodeCache(stateBytes, ramSize, this.codeMap === null ? undefined : { codeMap: this.codeMap, hartId: existing !== undefined ? area : null });
    const pageCount = ramSize / 4096;
    this.dirtyLog = new DirtyLog(stateBytes, pageCount, existing?.dirtyLog ?? (this.shared ? new SharedArrayBuffer(DirtyLog.bytesFor(pageCount)) : undefined));
  }

  /** Byte offset inside `memory` of hart `id`'s block (state first, then its TLBs). */
  hartStateOffset(id: number): number {
    return id * HART_BLOCK_BYTES;
  }

  /** True when [paddr, paddr+length) lies inside RAM. */
  containsRam(paddr: number, length: number): boolean {
    return paddr >= this.ramBase && paddr + length <= this.ramBase + this.ramSize;
  }

  /** Copies bytes into RAM at a guest-physical address. */
  writeRam(paddr: number, bytes: Uint8Array): void {
    if (!this.containsRam(paddr, bytes.length)) {
      throw new GuestMemoryError(
        `cannot place ${bytes.length} bytes at 0x${paddr.toString(16)}: outside RAM 0x${this.ramBase.toString(16)}-0x${(this.ramBase + this.ramSize).toString(16)}`,
      );
    }
    const start = this.ramOffset + (paddr - this.ramBase);
    this.u8.set(bytes, start);
    this.decodeCache.drop(start, bytes.length);
  }

  /** Reads bytes from RAM at a guest-physical address. */
  readRam(paddr: number, length: number): Uint8Array {
    if (!this.containsRam(paddr, length)) {
      throw new GuestMemoryError(`cannot read ${length} bytes at 0x${paddr.toString(16)}: outside RAM`);
    }
    const start = this.ramOffset + (paddr - this.ramBase);
    return this.u8.slice(start, start + length);
  }
}
