// Interoperability with QEMU's own tools: images qemu-img and qemu-io write read identically in
// Vireo, and what Vireo writes into them passes qemu-img check and converts to the same bytes.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2Image } from './qcow2-image.js';
import { assertSameBytes, pattern, qemuCheck, qemuImg, qemuIo, qemuRaw } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-qcow2-qemu-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (ext = 'qcow2') => join(dir, `img-${counter++}.${ext}`);
const MiB = 1024 * 1024;

async function readAll(path: string): Promise<Uint8Array> {
  const image = await Qcow2Image.open(path, { readOnly: true });
  try {
    const out = new Uint8Array(image.size);
    await image.read(0, out);
    return out;
  } finally {
    await image.close();
  }
}

function assertClean(path: string): void {
  const check = qemuCheck(path);
  assert.deepEqual({ corruptions: check.corruptions, leaks: check.leaks }, { corruptions: 0, leaks: 0 }, `qemu-img check ${path}`);
}

/** Writes, zeroes and discards through qemu-io: data at odd offsets, zero clusters, holes. */
const QEMU_IO_SCRIPT = ['write -P 0x11 0 100k', 'write -P 0x22 300k 5k', 'write -P 0x33 1000000 70000', 'write -z 64k 64k', 'discard 320k 64k', 'write -P 0x44 2m 1m', 'write -z 2m 128k'];

for (const [label, options] of [['version 3', 'compat=1.1'], ['version 2', 'compat=0.10'], ['version 3, 512-byte clusters', 'compat=1.1,cluster_size=512'], ['version 3, 1-bit refcounts', 'compat=1.1,refcount_bits=1'], ['version 3, 64-bit refcounts', 'compat=1.1,refcount_bits=64']] as const) {
  test(`an image qemu wrote (${label}) reads identically; Vireo's writes to it pass qemu-img check`, async () => {
    const path = fresh();
    qemuImg('create', '-q', '-f', 'qcow2', '-o', options, path, '4M');
    qemuIo(path, ...QEMU_IO_SCRIPT);
    const expected = new Uint8Array(qemuRaw(path));
    assertSameBytes(await readAll(path), expected, 'Vireo read of the qemu image');

    const image = await Qcow2Image.open(path);
    const writes: Array<[number, number]> = [[5, 70000], [64 * 1024 + 100, 10], [3 * MiB - 3, 200000], [2 * MiB + 512, 512]];
    for (const [offset, length] of writes) {
      const data = pattern(length, offset);
      await image.write(offset, data);
      expected.set(data, offset);
    }
    await image.writeZeroes(MiB, MiB);
    expected.fill(0, MiB, 2 * MiB);
    await image.discard(0, 65536);
    expected.fill(0, 0, 65536);
    assert.equal((await image.check()).corruptions, 0);
    await image.close();
    assertClean(path);
    assertSameBytes(qemuRaw(path), expected, 'qemu-img convert after Vireo wrote');
  });
}

test('backing chains qemu-img made (qcow2 over qcow2 over raw) read identically and take copy-on-write writes', async () => {
  const raw = fresh('raw');
  writeFileSync(raw, pattern(3 * MiB, 9));
  const middle = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-b', raw.split('/').pop()!, '-F', 'raw', middle, '4M');
  qemuIo(middle, 'write -P 0x55 100k 300k', 'write -z 1m 64k');
  const top = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-b', middle, '-F', 'qcow2', top);
  qemuIo(top, 'write -P 0x66 250k 10k', 'write -z 2m 64k');
  const expected = new Uint8Array(qemuRaw(top));
  assertSameBytes(await readAll(top), expected, 'Vireo read through the chain');

  const image = await Qcow2Image.open(top);
  assert.equal(image.backingFile, middle);
  await image.write(1024 * 1024 - 7, pattern(20, 1));
  expected.set(pattern(20, 1), 1024 * 1024 - 7);
  await image.discard(3 * MiB - 64 * 1024, 64 * 1024);
  expected.fill(0, 3 * MiB - 64 * 1024, 3 * MiB);
  await image.close();
  assertClean(top);
  assertClean(middle);
  assertSameBytes(qemuRaw(top), expected, 'qemu-img convert after Vireo wrote');
  assertSameBytes(qemuRaw(raw, 'raw'), pattern(3 * MiB, 9), 'the raw backing file is untouched');
});

test('an overlay Vireo creates over a qcow2 base is understood by qemu-img', async () => {
  const base = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', base, '2M');
  qemuIo(base, 'write -P 0x77 0 2m');
  const overlay = join(dir, `overlay-${counter++}.qcow2`);
  const image = await Qcow2Image.create(overlay, { backingFile: base.split('/').pop()!, backingFormat: 'qcow2', clusterBits: 12 });
  assert.equal(image.size, 2 * MiB);
  await image.write(5000, pattern(3000, 4));
  await image.close();
  const expected = new Uint8Array(2 * MiB).fill(0x77);
  expected.set(pattern(3000, 4), 5000);
  assertClean(overlay);
  assertSameBytes(qemuRaw(overlay), expected);
  assert.match(qemuImg('info', overlay), /backing file format: qcow2/);
});

test('compressed clusters written by qemu-img convert -c read correctly, and can be overwritten and discarded', async () => {
  const raw = fresh('raw');
  const contents = new Uint8Array(3 * MiB);
  for (let i = 0; i < contents.length; i++) contents[i] = (i >> 10) % 7 === 0 ? 0 : (i * 7) & 0xff ^ (i >> 12);
  contents.set(pattern(200 * 1024, 3), MiB); // incompressible data stays uncompressed
  writeFileSync(raw, contents);
  const path = fresh();
  qemuImg('convert', '-q', '-c', '-f', 'raw', '-O', 'qcow2', raw, path);
  const check = qemuImg('check', path);
  assert.match(check, /compressed clusters/);
  assert.doesNotMatch(check, / 0\.00% compressed/, 'the image really holds compressed clusters');
  assertSameBytes(await readAll(path), contents, 'Vireo read of compressed clusters');

  const image = await Qcow2Image.open(path);
  await image.write(70000, pattern(100, 5));
  contents.set(pattern(100, 5), 70000);
  await image.discard(2 * MiB, 5 * 65536);
  contents.fill(0, 2 * MiB, 2 * MiB + 5 * 65536);
  assert.deepEqual(await image.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
  await image.close();
  assertClean(path);
  assertSameBytes(qemuRaw(path), contents);
});

test('snapshots cross over: Vireo reverts to a snapshot qemu-img took, and qemu-img applies one Vireo took', async () => {
  const path = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', path, '2M');
  qemuIo(path, 'write -P 0x10 0 1m');
  const atQemuSnapshot = new Uint8Array(qemuRaw(path));
  qemuImg('snapshot', '-c', 'qemu-snap', path);
  qemuIo(path, 'write -P 0x20 512k 1m');

  const image = await Qcow2Image.open(path);
  assert.deepEqual(image.listSnapshots().map((s) => s.name), ['qemu-snap']);
  await image.write(0, pattern(70000, 8));
  const atVireoSnapshot = new Uint8Array(image.size);
  await image.read(0, atVireoSnapshot);
  await image.createSnapshot('vireo-snap');
  await image.revertSnapshot('qemu-snap');
  const now = new Uint8Array(image.size);
  await image.read(0, now);
  assertSameBytes(now, atQemuSnapshot, 'contents after reverting to the qemu snapshot');
  await image.close();
  assertClean(path);
  assert.match(qemuImg('snapshot', '-l', path), /vireo-snap/);
  assertSameBytes(qemuRaw(path), atQemuSnapshot);

  qemuImg('snapshot', '-a', 'vireo-snap', path);
  assertSameBytes(qemuRaw(path), atVireoSnapshot, 'qemu-img applied the Vireo snapshot');
  qemuImg('snapshot', '-d', 'qemu-snap', path);
  const reopened = await Qcow2Image.open(path);
  assert.deepEqual(reopened.listSnapshots().map((s) => s.name), ['vireo-snap']);
  await reopened.deleteSnapshot('vireo-snap');
  await reopened.close();
  assertClean(path);
  assertSameBytes(qemuRaw(path), atVireoSnapshot);
});

test('snapshots Vireo takes in a version 2 image are valid for qemu-img', async () => {
  const path = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10', path, '1M');
  const image = await Qcow2Image.open(path);
  assert.equal(image.version, 2);
  await image.write(1000, pattern(100000, 1));
  const before = new Uint8Array(image.size);
  await image.read(0, before);
  await image.createSnapshot('v2-snap');
  await image.write(0, pattern(300000, 2));
  await image.close();
  assertClean(path);
  assert.match(qemuImg('snapshot', '-l', path), /v2-snap/);
  qemuImg('snapshot', '-a', 'v2-snap', path);
  assertSameBytes(qemuRaw(path), before, 'qemu-img applied the snapshot Vireo took');
  assertClean(path);
});

test('zeroes over a backing file in a version 2 image (no zero flag) are written out and read as zeros', async () => {
  const raw = fresh('raw');
  writeFileSync(raw, pattern(MiB, 12));
  const path = fresh();
  qemuImg('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', '-b', raw, '-F', 'raw', path, '1M');
  const image = await Qcow2Image.open(path);
  const expected = new Uint8Array(pattern(MiB, 12));
  await image.writeZeroes(8192, 3 * 4096 + 10);
  expected.fill(0, 8192, 8192 + 3 * 4096 + 10);
  await image.discard(65536, 65536);
  expected.fill(0, 65536, 131072);
  const got = new Uint8Array(MiB);
  await image.read(0, got);
  assertSameBytes(got, expected);
  await image.close();
  assertClean(path);
  assertSameBytes(qemuRaw(path), expected);
});
