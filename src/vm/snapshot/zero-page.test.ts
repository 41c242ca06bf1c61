import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PAGE_SIZE } from './page-chunk-layout.js';
import { findNonZeroPages, isZeroPage } from './zero-page.js';

describe('zero page detection', () => {
  it('finds a single non-zero byte anywhere in a page', () => {
    const ram = new Uint8Array(8 * PAGE_SIZE);
    ram[2 * PAGE_SIZE] = 1; // first byte of page 2
    ram[5 * PAGE_SIZE + PAGE_SIZE - 1] = 0x80; // last byte of page 5
    ram[7 * PAGE_SIZE + 1234] = 0xff;
    assert.deepEqual([...findNonZeroPages(ram, 8)], [2, 5, 7]);
    assert.deepEqual([...findNonZeroPages(ram, 6)], [2, 5], 'only the pages asked for are looked at');
  });

  it('does not take the bit pattern of -0.0 for zero', () => {
    const ram = new Uint8Array(2 * PAGE_SIZE);
    new DataView(ram.buffer).setFloat64(PAGE_SIZE + 64, -0, true);
    assert.ok(!isZeroPage(ram, 1));
    assert.deepEqual([...findNonZeroPages(ram, 2)], [1]);
  });

  it('works on RAM that does not start on a 4-byte boundary', () => {
    const backing = new Uint8Array(3 * PAGE_SIZE + 1);
    const ram = backing.subarray(1);
    ram[PAGE_SIZE + 7] = 3;
    backing[0] = 9; // outside `ram`: must not count
    assert.deepEqual([...findNonZeroPages(ram, 3)], [1]);
    assert.ok(isZeroPage(ram, 0) && isZeroPage(ram, 2));
  });
});
