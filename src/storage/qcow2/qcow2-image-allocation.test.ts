// Qcow2Image.allocationMap: which ranges a layer holds itself (data, zero clusters) and which
// fall through to its backing file, merged into extents, also for images qemu-io wrote.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2Image } from './qcow2-image.js';
import { pattern, qemuImg, qemuIo } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-qcow2-alloc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const K = 1024;
const M = 1024 * K;

test('a new image is one unallocated extent; writes and zeroes show as data and zero, merged', async () => {
  const base = join(dir, 'base.qcow2');
  await (await Qcow2Image.create(base, { size: 4 * M, clusterBits: 16 })).close();
  const path = join(dir, 'overlay.qcow2');
  const image = await Qcow2Image.create(path, { backingFile: 'base.qcow2', clusterBits: 16 });
  try {
    assert.deepEqual(await image.allocationMap(), [{ offset: 0, length: 4 * M, state: 'unallocated' }]);
    await image.write(0, pattern(64 * K, 1));
    await image.write(64 * K + 100, pattern(10, 2)); // the next cluster becomes data too
    await image.writeZeroes(1 * M, 128 * K); // zero clusters: over a backing file they hide it
    await image.write(4 * M - 512, pattern(512, 3));
    assert.deepEqual(await image.allocationMap(), [
      { offset: 0, length: 128 * K, state: 'data' },
      { offset: 128 * K, length: 1 * M - 128 * K, state: 'unallocated' },
      { offset: 1 * M, length: 128 * K, state: 'zero' },
      { offset: 1 * M + 128 * K, length: 3 * M - 128 * K - 64 * K, state: 'unallocated' },
      { offset: 4 * M - 64 * K, length: 64 * K, state: 'data' },
    ]);
    // A window cuts extents at its edges.
    assert.deepEqual(await image.allocationMap(100 * K, 1 * M), [
      { offset: 100 * K, length: 28 * K, state: 'data' },
      { offset: 128 * K, length: 1 * M - 128 * K, state: 'unallocated' },
      { offset: 1 * M, length: 100 * K, state: 'zero' },
    ]);
    assert.throws(() => image.allocationMap(4 * M, 1), { kind: 'out-of-range' });
  } finally {
    await image.close();
  }
});

test('the map of an image qemu-io wrote matches what was written, and an L2 table spans many clusters', async () => {
  const path = join(dir, 'qemu.qcow2');
  // 512-byte clusters: one L2 table maps 32 KiB, so the disk needs many L1 entries.
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512', path, '1M');
  qemuIo(path, 'write -P 0x11 4k 1k', 'write -z 100k 2k', 'write -P 0x22 900k 512');
  const image = await Qcow2Image.open(path, { readOnly: true });
  try {
    assert.deepEqual(await image.allocationMap(), [
      { offset: 0, length: 4 * K, state: 'unallocated' },
      { offset: 4 * K, length: 1 * K, state: 'data' },
      { offset: 5 * K, length: 95 * K, state: 'unallocated' },
      { offset: 100 * K, length: 2 * K, state: 'zero' },
      { offset: 102 * K, length: 798 * K, state: 'unallocated' },
      { offset: 900 * K, length: 512, state: 'data' },
      { offset: 900 * K + 512, length: 124 * K - 512, state: 'unallocated' },
    ]);
  } finally {
    await image.close();
  }
});
