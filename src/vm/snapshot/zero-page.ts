// Finds the pages of guest RAM that hold anything but zeros: a freshly booted guest's RAM is
// mostly zero pages, and a snapshot stores none of them.

import { PAGE_SIZE } from './page-chunk-layout.js';

const WORDS_PER_PAGE = PAGE_SIZE / 4;

/** A 32-bit view of `ram` when its buffer allows one (4-byte aligned), else null. */
export function wordView(ram: Uint8Array): Uint32Array | null {
  if (ram.byteOffset % 4 !== 0) return null;
  return new Uint32Array(ram.buffer, ram.byteOffset, Math.floor(ram.byteLength / 4));
}

/** Whether page `page` of `ram` is all zeros. `words` is `wordView(ram)` when the caller has it. */
export function isZeroPage(ram: Uint8Array, page: number, words: Uint32Array | null = wordView(ram)): boolean {
  // Compared 4 bytes at a time: integer compares, so no float -0 or NaN surprises, and a page
  // with data usually stops the loop at its first word.
  if (words !== null) {
    const end = (page + 1) * WORDS_PER_PAGE;
    for (let i = page * WORDS_PER_PAGE; i < end; i++) if (words[i] !== 0) return false;
    return true;
  }
  const end = (page + 1) * PAGE_SIZE;
  for (let i = page * PAGE_SIZE; i < end; i++) if (ram[i] !== 0) return false;
  return true;
}

/** The indices, ascending, of the non-zero pages among the first `pages` pages of `ram`. */
export function findNonZeroPages(ram: Uint8Array, pages: number): Uint32Array {
  const words = wordView(ram);
  const found = new Uint32Array(pages);
  let count = 0;
  for (let page = 0; page < pages; page++) if (!isZeroPage(ram, page, words)) found[count++] = page;
  return found.subarray(0, count);
}
