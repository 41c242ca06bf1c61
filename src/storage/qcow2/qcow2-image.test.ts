import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2Error, type Qcow2ErrorKind } from './qcow2-error.js';
import { Qcow2Image } from './qcow2-image.js';
import { assertSameBytes, pattern, prng, qemuCheck, qemuImg, qemuInfo, qemuRaw } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-qcow2-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (name = 'disk') => join(dir, `${name}-${counter++}.qcow2`);
const isKind = (kind: Qcow2ErrorKind) => (e: unknown) => e instanceof Qcow2Error && e.kind === kind;
const KiB = 1024;
const MiB = 1024 * 1024;

async function readAll(image: Qcow2Image): Promise<Uint8Array> {
  const out = new Uint8Array(image.size);
  await image.read(0, out);
  return out;
}

test('a new image is what qemu-img expects: version 3, 16-bit refcounts, the size and cluster size asked for', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: 10 * MiB, clusterBits: 12 });
  assert.equal(image.size, 10 * MiB);
  assert.equal(image.clusterSize, 4096);
  await image.close();
  const info = qemuInfo(path);
  assert.equal(info['format'], 'qcow2');
  assert.equal(info['virtual-size'], 10 * MiB);
  assert.equal(info['cluster-size'], 4096);
  const specific = (info['format-specific'] as { data: Record<string, unknown> }).data;
  assert.equal(specific['compat'], '1.1');
  assert.equal(specific['refcount-bits'], 16);
  assert.deepEqual(qemuCheck(path), { corruptions: 0, leaks: 0, allocatedClusters: 0 });
  assertSameBytes(qemuRaw(path), new Uint8Array(10 * MiB));
});

test('a fresh 64 GiB image takes under 1 MiB on disk and reads as zeros', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: 64 * 1024 * MiB });
  const probe = new Uint8Array(4096).fill(0xff);
  await image.read(64 * 1024 * MiB - 4096, probe);
  assert.deepEqual(probe, new Uint8Array(4096));
  await image.close();
  const stat = statSync(path);
  assert.ok(stat.size < MiB, `file size ${stat.size}`);
  assert.ok(stat.blocks * 512 < MiB, `allocated ${stat.blocks * 512}`);
  assert.equal(qemuInfo(path)['virtual-size'], 64 * 1024 * MiB);
});

for (const clusterBits of [9, 16]) {
  test(`random writes, zeroes and discards (${2 ** clusterBits}-byte clusters) read back like a plain buffer, in Vireo and in qemu-img`, async () => {
    const path = fresh();
    const size = 2 * MiB;
    const model = new Uint8Array(size);
    const image = await Qcow2Image.create(path, { size, clusterBits });
    const rand = prng(clusterBits * 7919);
    for (let i = 0; i < 60; i++) {
      const length = 1 + rand(clusterBits === 9 ? 3000 : 150 * KiB);
      const offset = rand(size - length);
      const op = rand(10);
      if (op < 6) {
        const data = pattern(length, i + 1);
        await image.write(offset, data);
        model.set(data, offset);
      } else if (op < 8) {
        await image.writeZeroes(offset, length);
        model.fill(0, offset, offset + length);
      } else {
        await image.discard(offset, length);
        model.fill(0, offset, offset + length);
      }
    }
    assertSameBytes(await readAll(image), model);
    assert.deepEqual(await image.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
    await image.close();
    const check = qemuCheck(path);
    assert.equal(check.corruptions, 0);
    assert.equal(check.leaks, 0);
    assertSameBytes(qemuRaw(path), model, 'qemu-img convert output');
    const again = await Qcow2Image.open(path, { readOnly: true });
    assertSameBytes(await readAll(again), model);
    await again.close();
  });
}

test('concurrent requests are applied in the order they were issued', async () => {
  const image = await Qcow2Image.create(fresh(), { size: MiB, clusterBits: 12 });
  const model = new Uint8Array(MiB);
  const rand = prng(42);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    const length = 1 + rand(20000);
    const offset = rand(MiB - length);
    const data = pattern(length, 100 + i);
    model.set(data, offset);
    pending.push(i % 7 === 3 ? image.discard(offset, length).then(() => undefined) : image.write(offset, data));
    if (i % 7 === 3) model.fill(0, offset, offset + length);
  }
  await Promise.all(pending);
  assertSameBytes(await readAll(image), model);
  assert.equal((await image.check()).corruptions, 0);
  await image.close();
});

test('discard gives clusters back: their refcount drops to 0 and later writes reuse them instead of growing the file', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: 8 * MiB, clusterBits: 16 });
  await image.write(0, pattern(2 * MiB, 5));
  await image.flush();
  const grown = statSync(path).size;
  assert.equal(qemuCheck(path).allocatedClusters, 32);
  await image.discard(0, 2 * MiB);
  await image.flush();
  assert.equal(qemuCheck(path).allocatedClusters, 0);
  assert.deepEqual(await image.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
  await image.write(4 * MiB, pattern(2 * MiB, 6));
  await image.close();
  assert.equal(statSync(path).size, grown, 'the freed clusters were reused');
  const check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks, check.allocatedClusters], [0, 0, 32]);
  const raw = qemuRaw(path);
  assert.ok(raw.subarray(0, 2 * MiB).equals(Buffer.alloc(2 * MiB)));
  assert.ok(raw.subarray(4 * MiB, 6 * MiB).equals(Buffer.from(pattern(2 * MiB, 6))));
});

test('resize grows the disk (the L1 table moves when it must) and refuses to shrink', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: MiB, clusterBits: 9 });
  await image.write(1000, pattern(5000, 1));
  await image.resize(64 * MiB);
  assert.equal(image.size, 64 * MiB);
  await image.write(64 * MiB - 700, pattern(700, 2));
  await assert.rejects(image.resize(MiB), isKind('invalid-argument'));
  await assert.rejects(image.resize(64 * MiB + 3), isKind('invalid-argument'));
  await image.close();
  assert.equal(qemuInfo(path)['virtual-size'], 64 * MiB);
  const check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks], [0, 0]);
  const raw = qemuRaw(path);
  assert.ok(raw.subarray(1000, 6000).equals(Buffer.from(pattern(5000, 1))));
  assert.ok(raw.subarray(64 * MiB - 700).equals(Buffer.from(pattern(700, 2))));
});

test('accesses past the end, writes to a read-only image and use after close are refused with their kind', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: MiB });
  assert.throws(() => image.read(MiB - 1, new Uint8Array(2)), isKind('out-of-range'));
  assert.throws(() => image.write(-1, new Uint8Array(1)), isKind('out-of-range'));
  assert.throws(() => image.discard(0, MiB + 512), isKind('out-of-range'));
  await image.close();
  assert.throws(() => image.read(0, new Uint8Array(1)), isKind('closed'));
  const readOnly = await Qcow2Image.open(path, { readOnly: true });
  assert.throws(() => readOnly.write(0, new Uint8Array(1)), isKind('read-only'));
  assert.throws(() => readOnly.writeZeroes(0, 512), isKind('read-only'));
  assert.throws(() => readOnly.createSnapshot('s'), isKind('read-only'));
  await readOnly.flush();
  await readOnly.close();
  await assert.rejects(Qcow2Image.create(path, { size: MiB }), isKind('invalid-argument'));
  await assert.rejects(Qcow2Image.create(fresh(), { size: 1000 }), isKind('invalid-argument'));
  await assert.rejects(Qcow2Image.open(join(dir, 'missing.qcow2')), isKind('not-found'));
});

test('an image over a raw backing file reads through it and copies partial clusters on write', async () => {
  const base = join(dir, `base-${counter++}.raw`);
  const { writeFileSync } = await import('node:fs');
  const baseBytes = pattern(MiB + 512, 77); // not a whole number of clusters
  writeFileSync(base, baseBytes);
  const path = fresh('overlay');
  const image = await Qcow2Image.create(path, { size: 2 * MiB, backingFile: base.split('/').pop()!, backingFormat: 'raw', clusterBits: 12 });
  const model = new Uint8Array(2 * MiB);
  model.set(baseBytes);
  assertSameBytes(await readAll(image), model);
  const writes: Array<[number, number]> = [[100, 10], [4096 * 3 + 5, 9000], [MiB - 20, 100], [MiB + 1000, 300]];
  for (const [offset, length] of writes) {
    const data = pattern(length, offset);
    await image.write(offset, data);
    model.set(data, offset);
  }
  await image.writeZeroes(8192, 8192);
  model.fill(0, 8192, 16384);
  await image.discard(40960, 4096 * 3);
  model.fill(0, 40960, 40960 + 4096 * 3);
  assertSameBytes(await readAll(image), model);
  await image.close();
  const check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks], [0, 0]);
  assertSameBytes(qemuRaw(path), model, 'qemu-img convert output');
  assert.equal((qemuInfo(path)['backing-filename'] as string), base.split('/').pop());
});

test('snapshots: taking one keeps its contents while the disk changes; revert brings them back; delete frees what only it used', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: 4 * MiB, clusterBits: 12 });
  const first = pattern(3 * MiB, 1);
  await image.write(0, first);
  await image.createSnapshot('before');
  assert.deepEqual(image.listSnapshots().map((s) => [s.id, s.name, s.size]), [['1', 'before', 4 * MiB]]);
  await assert.rejects(image.createSnapshot('before'), isKind('invalid-argument'));
  const second = pattern(MiB, 2);
  await image.write(MiB / 2 + 7, second);
  await image.discard(2 * MiB, MiB);
  await image.write(3 * MiB + 5, Uint8Array.of(9));
  const afterModel = new Uint8Array(4 * MiB);
  afterModel.set(first);
  afterModel.set(second, MiB / 2 + 7);
  afterModel.fill(0, 2 * MiB, 3 * MiB);
  afterModel[3 * MiB + 5] = 9;
  assertSameBytes(await readAll(image), afterModel);
  assert.equal((await image.check()).corruptions, 0);
  await image.flush();
  let check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks], [0, 0]);

  await image.revertSnapshot('before');
  const beforeModel = new Uint8Array(4 * MiB);
  beforeModel.set(first);
  assertSameBytes(await readAll(image), beforeModel);
  await image.flush();
  check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks], [0, 0]);

  await image.write(0, pattern(4096, 3));
  beforeModel.set(pattern(4096, 3), 0);
  await image.deleteSnapshot('before');
  assert.deepEqual(image.listSnapshots(), []);
  await assert.rejects(image.revertSnapshot('before'), isKind('not-found'));
  assertSameBytes(await readAll(image), beforeModel);
  assert.deepEqual(await image.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
  await image.close();
  check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks, check.allocatedClusters], [0, 0, (3 * MiB) / 4096]);
  assertSameBytes(qemuRaw(path), beforeModel, 'qemu-img convert output');
});

test('check finds leaked clusters and repairs them', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: MiB, clusterBits: 12 });
  await image.write(0, pattern(8192, 1));
  await image.close();
  // Leak two clusters the way a crash between allocation and mapping would: refcount 1, no reference.
  const { openSync, writeSync, closeSync, readSync, ftruncateSync } = await import('node:fs');
  const fd = openSync(path, 'r+');
  ftruncateSync(fd, 42 * 4096);
  const header = Buffer.alloc(64);
  readSync(fd, header, 0, 64, 0);
  const table = Number(header.readBigUInt64BE(48));
  const entry = Buffer.alloc(8);
  readSync(fd, entry, 0, 8, table);
  const block = Number(entry.readBigUInt64BE(0));
  writeSync(fd, Buffer.from([0, 1, 0, 1]), 0, 4, block + 2 * 40);
  closeSync(fd);
  assert.equal(qemuCheck(path).leaks, 2);
  const damaged = await Qcow2Image.open(path);
  const found = await damaged.check();
  assert.equal(found.leaks, 2);
  assert.equal(found.corruptions, 0);
  assert.match(found.problems[0]!, /leaked cluster 40/);
  const repaired = await damaged.check({ repair: true });
  assert.equal(repaired.repairedLeaks, 2);
  assert.deepEqual(await damaged.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
  await damaged.close();
  assert.deepEqual(qemuCheck(path), { corruptions: 0, leaks: 0, allocatedClusters: 2 });
});

test('2 MiB clusters, the largest allowed, work as well', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: 8 * MiB, clusterBits: 21 });
  const model = new Uint8Array(8 * MiB);
  for (const [offset, length] of [[3, 10], [2 * MiB - 5, 100], [7 * MiB, MiB]] as const) {
    const data = pattern(length, offset);
    await image.write(offset, data);
    model.set(data, offset);
  }
  await image.discard(2 * MiB, 2 * MiB);
  model.fill(0, 2 * MiB, 4 * MiB);
  assertSameBytes(await readAll(image), model);
  await image.close();
  const check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks, check.allocatedClusters], [0, 0, 2]);
  assertSameBytes(qemuRaw(path), model, 'qemu-img convert output');
});

test('with an L2 cache of one table, I/O spread over many L2 tables stays correct', async () => {
  // 512-byte clusters: each L2 table maps only 32 KiB, so these requests keep evicting tables.
  const path = fresh();
  const created = await Qcow2Image.create(path, { size: MiB, clusterBits: 9 });
  await created.close();
  const image = await Qcow2Image.open(path, { l2CacheTables: 1 });
  const model = new Uint8Array(MiB);
  const rand = prng(99);
  for (let i = 0; i < 40; i++) {
    const length = 1 + rand(70000);
    const offset = rand(MiB - length);
    const data = pattern(length, 500 + i);
    await image.write(offset, data);
    model.set(data, offset);
    const probe = rand(MiB - 4096);
    const got = new Uint8Array(4096);
    await image.read(probe, got);
    assertSameBytes(got, model.subarray(probe, probe + 4096), `read at ${probe} after write ${i}`);
  }
  assertSameBytes(await readAll(image), model);
  await image.close();
  assertSameBytes(qemuRaw(path), model, 'qemu-img convert output');
});

test('an empty (0-byte) disk is valid, and can be snapshotted and grown', async () => {
  const path = fresh();
  const image = await Qcow2Image.create(path, { size: 0 });
  assert.equal(image.size, 0);
  await image.createSnapshot('empty');
  await image.resize(MiB);
  await image.write(MiB - 3, Uint8Array.of(1, 2, 3));
  assert.deepEqual(await image.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
  await image.flush();
  assert.deepEqual(qemuCheck(path), { corruptions: 0, leaks: 0, allocatedClusters: 1 });
  await image.revertSnapshot('empty');
  assert.equal(image.size, 0);
  await image.deleteSnapshot('empty');
  await image.close();
  assert.deepEqual(qemuCheck(path), { corruptions: 0, leaks: 0, allocatedClusters: 0 });
  assert.equal(qemuInfo(path)['virtual-size'], 0);
});

test('a random mix of writes, discards and snapshot creation, revert and deletion keeps every snapshot and the refcounts right', async () => {
  const path = fresh();
  const size = MiB;
  const image = await Qcow2Image.create(path, { size, clusterBits: 12 });
  let model = new Uint8Array(size);
  const saved = new Map<string, Uint8Array>();
  const rand = prng(2024);
  for (let step = 0; step < 120; step++) {
    const op = rand(20);
    const length = 1 + rand(40000);
    const offset = rand(size - length);
    if (op < 10) {
      const data = pattern(length, step);
      await image.write(offset, data);
      model.set(data, offset);
    } else if (op < 13) {
      await image.discard(offset, length);
      model.fill(0, offset, offset + length);
    } else if (op < 15) {
      await image.writeZeroes(offset, length);
      model.fill(0, offset, offset + length);
    } else if (op < 17 && saved.size < 4) {
      await image.createSnapshot(`snap-${step}`);
      saved.set(`snap-${step}`, model.slice());
    } else if (op < 19 && saved.size > 0) {
      const name = [...saved.keys()][rand(saved.size)]!;
      await image.revertSnapshot(name);
      model = saved.get(name)!.slice();
      assertSameBytes(await readAll(image), model, `contents after reverting to ${name}`);
    } else if (saved.size > 0) {
      const name = [...saved.keys()][rand(saved.size)]!;
      await image.deleteSnapshot(name);
      saved.delete(name);
    }
  }
  assertSameBytes(await readAll(image), model);
  assert.deepEqual(image.listSnapshots().map((s) => s.name).sort(), [...saved.keys()].sort());
  assert.deepEqual(await image.check(), { leaks: 0, corruptions: 0, repairedLeaks: 0, problems: [] });
  await image.close();
  const check = qemuCheck(path);
  assert.deepEqual([check.corruptions, check.leaks], [0, 0]);
  assertSameBytes(qemuRaw(path), model, 'qemu-img convert output');
  for (const [name, contents] of saved) {
    const copy = join(dir, `apply-${counter++}.qcow2`);
    (await import('node:fs')).copyFileSync(path, copy);
    qemuImg('snapshot', '-a', name, copy);
    assertSameBytes(qemuRaw(copy), contents, `snapshot ${name} applied by qemu-img`);
  }
});
