import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockBackendError } from './block-backend.js';
import { runBlockBackendConformance } from './block-backend-conformance.js';
import { detectDiskFormat, openDiskImage } from './disk-image.js';
import { Qcow2BlockBackend } from './qcow2-block-backend.js';
import { Qcow2Image } from './qcow2/qcow2-image.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-disk-image-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

runBlockBackendConformance('Qcow2BlockBackend', async (contents, { readOnly }) => {
  const path = join(dir, `conf-${counter++}.qcow2`);
  const image = await Qcow2Image.create(path, { size: contents.length, clusterBits: 12 });
  await image.write(0, contents);
  await image.close();
  const backend = new Qcow2BlockBackend(await Qcow2Image.open(path, { readOnly }));
  return { backend, close: () => backend.close() };
});

test('the format is read from the header: qcow2 by its magic, anything else raw', async () => {
  const qcow2 = join(dir, 'a.qcow2');
  await (await Qcow2Image.create(qcow2, { size: 1 << 20 })).close();
  const raw = join(dir, 'a.img');
  writeFileSync(raw, new Uint8Array(4096));
  assert.equal(await detectDiskFormat(qcow2), 'qcow2');
  assert.equal(await detectDiskFormat(raw), 'raw');
  const disk = await openDiskImage(qcow2);
  assert.equal(disk.format, 'qcow2');
  assert.equal(disk.size, 1 << 20);
  await disk.write(4096, Uint8Array.of(7));
  await disk.close();
  const back = await openDiskImage(qcow2, { readOnly: true });
  const got = new Uint8Array(1);
  await back.read(4096, got);
  assert.equal(got[0], 7);
  await back.close();
  // Named as raw, a qcow2 file is just bytes.
  const asRaw = await openDiskImage(qcow2, { format: 'raw', readOnly: true });
  assert.equal(asRaw.format, 'raw');
  assert.equal(asRaw.size, readFileSync(qcow2).length);
  await asRaw.close();
});

test('a raw image whose format was guessed cannot be turned into a qcow2 image by its guest; named raw, it can', async () => {
  const raw = join(dir, 'guessed.img');
  writeFileSync(raw, new Uint8Array(4096));
  const planted = new Uint8Array(512);
  planted.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]);
  const guessed = await openDiskImage(raw);
  await assert.rejects(guessed.write(0, planted), (e: unknown) => e instanceof BlockBackendError && e.kind === 'io');
  await guessed.close();
  assert.equal(await detectDiskFormat(raw), 'raw');
  const named = await openDiskImage(raw, { format: 'raw' });
  await named.write(0, planted);
  await named.close();
  assert.equal(await detectDiskFormat(raw), 'qcow2');
});

test('a damaged qcow2 image is refused with a clear error of kind bad-format', async () => {
  const path = join(dir, 'bad.qcow2');
  const header = new Uint8Array(512);
  header.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]); // version 9
  writeFileSync(path, header);
  await assert.rejects(openDiskImage(path), (e: unknown) => e instanceof BlockBackendError && e.kind === 'bad-format' && /version/.test(e.message));
  await assert.rejects(openDiskImage(join(dir, 'missing.qcow2'), { format: 'qcow2' }), (e: unknown) => e instanceof BlockBackendError && e.kind === 'not-found');
});
