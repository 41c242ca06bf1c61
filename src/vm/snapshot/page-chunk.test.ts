import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomFillSync } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { decodePages, encodePages } from './page-chunk.js';
import { MAX_CHUNK_PAGES, PAGE_SIZE } from './page-chunk-layout.js';
import { refused } from '../../../tests/snapshot/snapshot-test-support.js';

function page(ram: Uint8Array, i: number): Uint8Array {
  return ram.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
}

/** RAM of `pages` pages with random bytes in the pages listed. */
function ramWith(pages: number, filled: number[]): Uint8Array {
  const ram = new Uint8Array(pages * PAGE_SIZE);
  for (const i of filled) randomFillSync(ram, i * PAGE_SIZE, PAGE_SIZE);
  return ram;
}

/** Rewrites a chunk's CRC after a test changed its bytes on purpose (a crafted chunk). */
function resign(chunk: Uint8Array): Uint8Array {
  const b = Buffer.from(chunk);
  b.writeUInt32LE(crc32(b.subarray(8)), 4);
  return b;
}

describe('page chunks', () => {
  it('carry the named pages, and only them, into another RAM', async () => {
    const src = ramWith(64, [3, 10, 11, 40, 63]);
    const dst = ramWith(64, [5, 20]);
    const before5 = Buffer.from(page(dst, 5));
    const chunk = await encodePages(src, [40, 3, 11, 3]);
    const result = await decodePages(chunk, dst);
    assert.deepEqual(result, { dataPages: 3, zeroPages: 0 });
    for (const i of [3, 11, 40]) assert.deepEqual(page(dst, i), page(src, i));
    assert.deepEqual(Buffer.from(page(dst, 5)), before5, 'a page not in the chunk is left alone');
    assert.ok(page(dst, 10).every((b) => b === 0), 'page 10 was not sent');
  });

  it('clear pages that became zero, so an older copy at the destination is overwritten', async () => {
    const dst = ramWith(16, [2, 7]);
    const src = ramWith(16, [7]);
    const chunk = await encodePages(src, [2, 7]);
    assert.ok(chunk.length < PAGE_SIZE + 100, 'the zero page is named, not stored');
    assert.deepEqual(await decodePages(chunk, dst), { dataPages: 1, zeroPages: 1 });
    assert.ok(page(dst, 2).every((b) => b === 0));
    assert.deepEqual(page(dst, 7), page(src, 7));
  });

  it('hold each page as it was when encodePages was called', async () => {
    const src = ramWith(4, [1]);
    const original = Buffer.from(page(src, 1));
    const pending = encodePages(src, [1]);
    page(src, 1).fill(0xaa);
    const dst = new Uint8Array(src.length);
    await decodePages(await pending, dst);
    assert.deepEqual(Buffer.from(page(dst, 1)), original);
  });

  it('refuse to encode pages outside RAM or too many pages at once', async () => {
    const ram = ramWith(8, [0]);
    await refused(encodePages(ram, [8]), 'bad-argument', /page 8 is not a page of this RAM/);
    await refused(encodePages(ram, [-1]), 'bad-argument');
    await refused(encodePages(ram, [1.5]), 'bad-argument');
    const big = new Uint8Array((MAX_CHUNK_PAGES + 1) * PAGE_SIZE);
    await refused(encodePages(big, Array.from({ length: MAX_CHUNK_PAGES + 1 }, (_, i) => i)), 'bad-argument', /at most 4096 pages/);
  });

  it('refuse a chunk naming pages past the end of the RAM, writing nothing', async () => {
    const chunk = await encodePages(ramWith(32, [1, 30]), [1, 30]);
    const dst = new Uint8Array(16 * PAGE_SIZE);
    await refused(decodePages(chunk, dst), 'bad-header', /page 30, past the end of RAM \(16 pages\)/);
    assert.ok(dst.every((b) => b === 0), 'page 1 was not written either');
  });

  it('refuse damaged chunks', async () => {
    const chunk = await encodePages(ramWith(8, [2, 3]), [2, 3, 4]);
    const dst = new Uint8Array(8 * PAGE_SIZE);
    for (const at of [4, 9, 30, chunk.length - 1]) {
      const bad = Buffer.from(chunk);
      bad[at]! ^= 0x10;
      await refused(decodePages(bad, dst), 'corrupt', /CRC32 mismatch/);
    }
    const badMagic = Buffer.from(chunk);
    badMagic[0] = 0x58;
    await refused(decodePages(badMagic, dst), 'corrupt', /magic/);
    await refused(decodePages(chunk.subarray(0, 10), dst), 'truncated');
    await refused(decodePages(chunk.subarray(0, chunk.length - 1), dst), 'truncated');
    await refused(decodePages(Buffer.concat([chunk, Buffer.alloc(1)]), dst), 'corrupt', /past its declared end/);
    assert.ok(dst.every((b) => b === 0));
  });

  it('refuse crafted chunks whose checksum holds', async () => {
    const src = ramWith(8, [2, 3]);
    const dst = new Uint8Array(8 * PAGE_SIZE);
    const chunk = Buffer.from(await encodePages(src, [2, 3]));

    const descending = Buffer.from(chunk);
    descending.writeUInt32LE(3, 24);
    descending.writeUInt32LE(2, 28);
    await refused(decodePages(resign(descending), dst), 'bad-header', /not strictly ascending/);

    const pageSize = Buffer.from(chunk);
    pageSize.writeUInt32LE(65536, 8);
    await refused(decodePages(resign(pageSize), dst), 'bad-header', /page size 65536/);

    // Claims three stored pages where the data holds two: the third index eats 4 bytes of the
    // compressed stream, which then does not decode to three pages.
    const moreData = Buffer.from(chunk);
    moreData.writeUInt32LE(3, 12);
    moreData.writeUInt32LE(moreData.readUInt32LE(20) - 4, 20);
    moreData.writeUInt32LE(5, 32);
    await refused(decodePages(resign(moreData), dst), 'corrupt', /do not decode|decode to/);

    const both = Buffer.from(await encodePages(ramWith(8, [2]), [2, 5]));
    both.writeUInt32LE(2, 28); // the zero list now names the stored page 2
    await refused(decodePages(resign(both), dst), 'bad-header', /both stored and zeroed/);
    assert.ok(dst.every((b) => b === 0));
  });
});
