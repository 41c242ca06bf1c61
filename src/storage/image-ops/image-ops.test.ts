// The image operations as a library (what the host agent calls): thin copies of large chains,
// progress, refusal to overwrite, cleanup after a failure, and images qemu-img made.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2Image } from '../qcow2/qcow2-image.js';
import { commitImage } from './commit-image.js';
import { convertImage } from './convert-image.js';
import { createImage } from './create-image.js';
import { dataExtents } from './data-extents.js';
import { imageInfo } from './image-info.js';
import { assertSameBytes, pattern, qemuCheck, qemuImg, qemuInfo, qemuIo, qemuRaw } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-image-ops-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (ext = 'qcow2') => join(dir, `img-${counter++}.${ext}`);
const K = 1024;
const M = 1024 * K;
const G = 1024 * M;

async function withImage<T>(path: string, use: (image: Qcow2Image) => Promise<T>, readOnly = false): Promise<T> {
  const image = await Qcow2Image.open(path, { readOnly });
  try {
    return await use(image);
  } finally {
    await image.close();
  }
}

async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  return withImage(path, async (image) => {
    const out = new Uint8Array(length);
    await image.read(offset, out);
    return out;
  }, true);
}

test('data extents follow the chain: data shows through unallocated ranges, zero clusters hide it, a short base ends in zeros', async () => {
  const base = fresh('raw');
  writeFileSync(base, Buffer.alloc(1 * M, 0x11));
  const middle = fresh();
  await createImage(middle, { format: 'qcow2', size: 4 * M, backingFile: base });
  await withImage(middle, async (image) => {
    await image.writeZeroes(128 * K, 64 * K);
    await image.write(2 * M, pattern(64 * K, 1));
  });
  const top = fresh();
  await createImage(top, { format: 'qcow2', backingFile: middle });
  await withImage(top, (image) => image.write(3 * M, pattern(64 * K, 2)));
  assert.deepEqual(await dataExtents(top, 4 * M), [
    { offset: 0, length: 128 * K },
    { offset: 192 * K, length: 1 * M - 192 * K },
    { offset: 2 * M, length: 64 * K },
    { offset: 3 * M, length: 64 * K },
  ]);
});

test('converting a 64 GiB thin chain reads only what its layers hold, and reports progress to the end', async () => {
  const base = fresh();
  await createImage(base, { format: 'qcow2', size: 64 * G });
  await withImage(base, async (image) => {
    await image.write(10 * G, pattern(64 * K, 1));
    await image.write(20 * G, pattern(64 * K, 2));
  });
  const overlay = fresh();
  await createImage(overlay, { format: 'qcow2', backingFile: base });
  await withImage(overlay, async (image) => {
    await image.writeZeroes(10 * G, 64 * K); // hides the base's data there
    await image.write(60 * G + 512, pattern(1000, 3));
  });
  const out = fresh();
  const progress: Array<[number, number]> = [];
  const started = Date.now();
  const result = await convertImage(overlay, out, { outputFormat: 'qcow2', onProgress: (done, total) => progress.push([done, total]) });
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
  assert.equal(result.virtualSize, 64 * G);
  assert.equal(result.dataBytes, 2 * 64 * K);
  assert.deepEqual(progress[0], [0, 64 * G]);
  assert.deepEqual(progress.at(-1), [64 * G, 64 * G]);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]![0] >= progress[i - 1]![0], 'progress never goes back');
  assert.equal(qemuInfo(out)['backing-filename'], undefined);
  assert.equal(qemuCheck(out).corruptions, 0);
  assertSameBytes(await readAt(out, 10 * G, 64 * K), new Uint8Array(64 * K), 'zeroed range');
  assertSameBytes(await readAt(out, 20 * G, 64 * K), pattern(64 * K, 2), 'base data');
  assertSameBytes(await readAt(out, 60 * G + 512, 1000), pattern(1000, 3), 'overlay data');
  const allocated = await withImage(out, (image) => image.allocationMap(), true);
  assert.deepEqual(allocated.filter((e) => e.state === 'data'), [{ offset: 20 * G, length: 64 * K, state: 'data' }, { offset: 60 * G, length: 64 * K, state: 'data' }]);
});

test('convert reads compressed clusters qemu-img wrote, refuses an existing output, and removes a half-written one', async () => {
  const raw = fresh('raw');
  const bytes = Buffer.alloc(2 * M);
  for (let i = 0; i < bytes.length; i += 4096) bytes.write(`block ${i}\n`, i);
  writeFileSync(raw, bytes);
  const compressed = fresh();
  qemuImg('convert', '-c', '-f', 'raw', '-O', 'qcow2', raw, compressed);
  const back = fresh('raw');
  await convertImage(compressed, back, { outputFormat: 'raw' });
  assertSameBytes(readFileSync(back), bytes, 'decompressed copy');
  await assert.rejects(convertImage(raw, back, { outputFormat: 'qcow2' }), { name: 'ImageOpsError', kind: 'exists' });
  await assert.rejects(convertImage(raw, raw, { outputFormat: 'raw' }), /it is the source image/);
  // A source whose data clusters lie past its end fails mid-copy: the output is removed.
  const broken = fresh();
  await convertImage(raw, broken, { outputFormat: 'qcow2', clusterBits: 12 });
  truncateSync(broken, 64 * K);
  const target = fresh('raw');
  await assert.rejects(convertImage(broken, target, { outputFormat: 'raw' }), { name: 'Qcow2Error', message: /past the end of the file/ });
  assert.equal(existsSync(target), false);
});

test('commit of a version 2 overlay qemu-img made; the emptied overlay is version 3 with the same backing file', async () => {
  const base = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', base, '1M');
  qemuIo(base, 'write -P 0x5a 0 1M');
  const overlay = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', '-b', base, '-F', 'qcow2', overlay);
  qemuIo(overlay, 'write -P 0x6b 4k 8k', 'write -z 512k 4k');
  const expected = qemuRaw(overlay);
  const progress: number[] = [];
  const result = await commitImage(overlay, { onProgress: (done) => progress.push(done) });
  assert.equal(result.committedBytes, 12 * K);
  assert.deepEqual(progress, [0, 8 * K, 12 * K]);
  assertSameBytes(qemuRaw(base), expected, 'the base');
  const info = await imageInfo(overlay);
  assert.equal(info.version, 3);
  assert.equal(info.clusterSize, 4096);
  assert.equal(info.backingFile, base);
  assert.equal(info.backingFormat, 'qcow2');
  assertSameBytes(qemuRaw(overlay), expected, 'the emptied overlay');
  assert.equal(existsSync(`${overlay}.commit-${process.pid}.tmp`), false);
});
