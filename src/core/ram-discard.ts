// Gives guest RAM back to the host: the native addon (native/ram-discard.c) calls
// madvise(MADV_DONTNEED) on the whole host pages of a range of a WebAssembly.Memory (or any
// byte array); the range then reads as zero and costs no host memory until touched again. It
// also finds the pages of a range that hold only zeros, which can go back the same way.

import { createRequire } from 'node:module';

/** What native/ram-discard.c exports. */
interface NativeRamDiscard {
  /** [head, released]: bytes [offset + head, offset + head + released) went back to the host. */
  discard(view: Uint8Array, offset: number, length: number): [number, number];
  /** Bytes given back: the resident whole pages of the range that hold only zeros. */
  discardZeroPages(view: Uint8Array, offset: number, length: number): number;
  pageSize(): number;
  trimHeap(): boolean;
  markMergeable(view: Uint8Array, offset: number, length: number): boolean;
}

export class RamDiscardError extends Error {
  override readonly name = 'RamDiscardError';
  readonly kind = 'ram-discard';
}

/** Where `npm ci` builds the addon, from dist/src/core/ or src/core/ alike. */
const ADDON_PATHS = ['../../../native/build/Release/vireo_native.node', '../../native/build/Release/vireo_native.node'];

export class RamDiscard {
  /** The host's page size: what madvise works in. */
  readonly pageSize: number;

  private constructor(private readonly native: NativeRamDiscard) {
    this.pageSize = native.pageSize();
  }

  /**
   * Makes bytes [offset, offset + length) of `view` read as zero, giving the whole host pages
   * among them back to the host (the partial pages at the ends are zeroed in place). Returns
   * the bytes given back. Throws RamDiscardError for a range outside the view.
   */
  discard(view: Uint8Array, offset: number, length: number): number {
    checkRange(view, offset, length);
    let head: number, given: number;
    try {
      [head, given] = this.native.discard(view, offset, length);
    } catch (e) {
      throw new RamDiscardError(`discarding ${length} bytes failed: ${(e as Error).message}`, { cause: e });
    }
    // Only whole host pages went back: zero the partial ones at the ends in place.
    if (given === 0) view.fill(0, offset, offset + length);
    else {
      view.fill(0, offset, offset + head);
      view.fill(0, offset + head + given, offset + length);
    }
    return given;
  }

  /**
   * Gives back the whole host pages of bytes [offset, offset + length) of `view` that are
   * resident and hold only zeros; they still read as zero. Returns the bytes given back. Nothing
   * may write the range meanwhile (a write between the check and the release would be lost).
   */
  discardZeroPages(view: Uint8Array, offset: number, length: number): number {
    checkRange(view, offset, length);
    try {
      return this.native.discardZeroPages(view, offset, length);
    } catch (e) {
      throw new RamDiscardError(`giving back the zero pages of ${length} bytes failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Gives the C heap's free pages back to the host (malloc_trim): V8's compilers leave tens of
   * MiB there, which glibc keeps. Whether anything went back.
   */
  trimHeap(): boolean {
    return this.native.trimHeap();
  }

  /**
   * Offers the whole host pages of bytes [offset, offset + length) of `view` to the kernel's
   * same-page merging (KSM), which shares identical pages between processes copy-on-write
   * while /sys/kernel/mm/ksm/run is 1. False when the kernel has no KSM.
   */
  markMergeable(view: Uint8Array, offset: number, length: number): boolean {
    checkRange(view, offset, length);
    try {
      return this.native.markMergeable(view, offset, length);
    } catch (e) {
      throw new RamDiscardError(`offering ${length} bytes for merging failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private static loaded: RamDiscard | RamDiscardError | null = null;

  /**
   * The addon, loaded once. Throws RamDiscardError (every time) when it is missing or will not
   * load: it is built by `npm ci` / `npm install`, which need python3, make and a C compiler.
   */
  static load(): RamDiscard {
    if (RamDiscard.loaded === null) RamDiscard.loaded = RamDiscard.loadAddon();
    if (RamDiscard.loaded instanceof RamDiscardError) throw RamDiscard.loaded;
    return RamDiscard.loaded;
  }

  private static loadAddon(): RamDiscard | RamDiscardError {
    const require = createRequire(import.meta.url);
    let problem = '';
    for (const path of ADDON_PATHS) {
      try {
        return new RamDiscard(require(path) as NativeRamDiscard);
      } catch (e) {
        problem ||= (e as Error).message.split('\n')[0]!;
      }
    }
    return new RamDiscardError(
      `the native addon that gives guest RAM back to the host is not built (${problem}); run \`npm ci\` or \`npm run build:native\` (needs python3, make and a C compiler)`,
    );
  }
}

function checkRange(view: Uint8Array, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > view.length) {
    throw new RamDiscardError(`cannot discard bytes ${offset}+${length} of a ${view.length}-byte array: outside it`);
  }
}
