import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootImageError, placeBootImages } from './boot-images.js';

const RAM = { base: 0x80000000, size: 128 << 20 };
const TOP = RAM.base + RAM.size - 0x2000;

function linuxImage(textOffset: number, imageSize: number, length = 8192): Uint8Array {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0x08, BigInt(textOffset), true);
  view.setBigUint64(0x10, BigInt(imageSize), true);
  view.setUint32(0x38, 0x05435352, true);
  return bytes;
}

test('firmware at the start of RAM, the kernel at text_offset, the hart starts in the firmware', () => {
  const placed = placeBootImages(RAM, TOP, linuxImage(0x200000, 0x1e6c000), new Uint8Array(300_000));
  assert.equal(placed.image.entry, RAM.base);
  assert.deepEqual(placed.image.segments.map((s) => s.paddr), [RAM.base, RAM.base + 0x200000]);
  assert.equal(placed.image.end, RAM.base + 0x200000 + 0x1e6c000, 'image_size counts, not just the file');
});

test('the initrd goes high, page-aligned, below the device tree and clear of fw_jump\'s FDT copy', () => {
  const initrd = new Uint8Array(5_000_000);
  const placed = placeBootImages(RAM, TOP, linuxImage(0x200000, 0x1e6c000), new Uint8Array(1000), initrd);
  assert.ok(placed.initrd);
  assert.equal(placed.initrd.start % 4096, 0);
  assert.ok(placed.initrd.end <= TOP);
  assert.ok(placed.initrd.start >= RAM.base + 0x2200000 + 0x200000);
  assert.equal(placed.initrd.end - placed.initrd.start, initrd.length);
});

test('what does not fit is a clear error', () => {
  const small = { base: 0x80000000, size: 40 << 20 };
  assert.throws(() => placeBootImages(small, small.base + small.size - 0x2000, linuxImage(0x200000, 0x1e6c000), new Uint8Array(1000), new Uint8Array(8 << 20)),
    (e: unknown) => e instanceof BootImageError && /cannot hold the \d+-byte initrd.*raise -m/.test(e.message));
  assert.throws(() => placeBootImages(RAM, TOP, linuxImage(0x400000, 0x100000), new Uint8Array(1000)), /text_offset 0x200000/);
  assert.throws(() => placeBootImages(RAM, TOP, linuxImage(0x200000, 0x100000), new Uint8Array(0x300000)), /overlap the kernel/);
});
