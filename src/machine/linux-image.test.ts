import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLinuxImage } from './linux-image.js';

function header(magic2: number, textOffset: bigint, imageSize: bigint): Uint8Array {
  const bytes = new Uint8Array(4096);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0x08, textOffset, true);
  view.setBigUint64(0x10, imageSize, true);
  view.setUint32(0x38, magic2, true);
  return bytes;
}

test('reads text_offset and image_size from a RISC-V Linux image header', () => {
  const image = parseLinuxImage(header(0x05435352, 0x200000n, 0x1e6c000n));
  assert.deepEqual(image, { textOffset: 0x200000, imageSize: 0x1e6c000 });
});

test('the legacy magic alone is enough; files without a header are not images', () => {
  const legacy = header(0, 0x200000n, 0x100000n);
  legacy.set([...'RISCV\0\0\0'].map((c) => c.charCodeAt(0)), 0x30);
  assert.equal(parseLinuxImage(legacy)?.textOffset, 0x200000);
  assert.equal(parseLinuxImage(header(0, 0n, 0n)), null);
  assert.equal(parseLinuxImage(new Uint8Array(10)), null);
});

test('image_size never claims less than the file itself', () => {
  assert.equal(parseLinuxImage(header(0x05435352, 0x200000n, 16n))?.imageSize, 4096);
});
