// Hostile images: hand-made headers and tables must be refused with the right kind, quickly,
// without allocations sized by the attacker, and never with a crash or a hang.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Qcow2Error, type Qcow2ErrorKind } from './qcow2-error.js';
import { Qcow2Image } from './qcow2-image.js';
import { qemuCheck, qemuImg, qemuIo } from '../../../tests/storage/qemu-img.js';

const dir = mkdtempSync(join(tmpdir(), 'vireo-qcow2-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const KiB = 1024;

// Layout of a fresh 1 MiB image with 64 KiB clusters: header, refcount table, refcount block, L1 table.
const CLUSTER = 64 * KiB;
const REFCOUNT_TABLE = CLUSTER;
const REFCOUNT_BLOCK = 2 * CLUSTER;
const L1_TABLE = 3 * CLUSTER;
let template = '';

async function base(): Promise<string> {
  if (template === '') {
    template = join(dir, 'template.qcow2');
    const image = await Qcow2Image.create(template, { size: 1024 * KiB });
    await image.write(0, new Uint8Array(CLUSTER).fill(0xaa));
    await image.close();
  }
  const path = join(dir, `hostile-${counter++}.qcow2`);
  copyFileSync(template, path);
  return path;
}

type Patch = [offset: number, bytes: number[] | bigint | number, width?: 4 | 8];

function patch(path: string, patches: Patch[]): void {
  const fd = openSync(path, 'r+');
  for (const [offset, value, width] of patches) {
    let bytes: Buffer;
    if (Array.isArray(value)) bytes = Buffer.from(value);
    else if (width === 8 || typeof value === 'bigint') {
      bytes = Buffer.alloc(8);
      bytes.writeBigUInt64BE(BigInt(value));
    } else {
      bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(value);
    }
    writeSync(fd, bytes, 0, bytes.length, offset);
  }
  closeSync(fd);
}

async function refusal(path: string, options: { readOnly?: boolean } = {}): Promise<Qcow2Error> {
  const before = process.memoryUsage().arrayBuffers;
  let error: unknown = null;
  try {
    const image = await Qcow2Image.open(path, options);
    await image.close();
  } catch (e) {
    error = e;
  }
  assert.ok(process.memoryUsage().arrayBuffers - before < 40 * 1024 * KiB, 'no large allocation driven by the header');
  assert.ok(error instanceof Qcow2Error, `expected a Qcow2Error, got ${String(error)}`);
  return error;
}

const U64_MAX = 2n ** 64n - 1n;
const cases: Array<[string, Qcow2ErrorKind, Patch[]]> = [
  ['bad magic', 'bad-magic', [[0, [0x51, 0x46, 0x49, 0x00]]]],
  ['version 1', 'unsupported-version', [[4, 1]]],
  ['version 4', 'unsupported-version', [[4, 4]]],
  ['cluster_bits 8', 'corrupt', [[20, 8]]],
  ['cluster_bits 22', 'too-large', [[20, 22]]],
  ['cluster_bits 2^32-1', 'too-large', [[20, 0xffffffff]]],
  ['encryption (crypt_method 1)', 'unsupported-feature', [[32, 1]]],
  ['a virtual size of 2^62', 'too-large', [[24, 2n ** 62n]]],
  ['a virtual size of 2^64-1', 'too-large', [[24, U64_MAX]]],
  ['an L1 table of 2^32-1 entries', 'too-large', [[36, 0xffffffff]]],
  ['an L1 table too small for the size', 'corrupt', [[36, 0]]],
  ['an L1 table past the end of the file', 'corrupt', [[40, 2n ** 40n]]],
  ['an L1 table offset of 2^64-1', 'too-large', [[40, U64_MAX]]],
  ['a misaligned L1 table', 'corrupt', [[40, BigInt(L1_TABLE + 8)]]],
  ['an L1 table over the header', 'corrupt', [[40, 0n]]],
  ['an L1 table over the refcount table', 'corrupt', [[40, BigInt(REFCOUNT_TABLE)]]],
  ['a refcount table of 2^32-1 clusters', 'too-large', [[56, 0xffffffff]]],
  ['a refcount table past the end of the file', 'corrupt', [[48, 2n ** 45n]]],
  ['a misaligned refcount table', 'corrupt', [[48, BigInt(REFCOUNT_TABLE + 512)]]],
  ['no refcount table', 'corrupt', [[56, 0]]],
  ['2^32-1 snapshots', 'too-large', [[60, 0xffffffff]]],
  ['a snapshot table past the end of the file', 'corrupt', [[60, 1], [64, 2n ** 40n]]],
  ['a snapshot table over the L1 table', 'corrupt', [[60, 1], [64, BigInt(L1_TABLE)]]],
  ['an unknown incompatible feature', 'unsupported-feature', [[72, 1n << 20n]]],
  ['extended L2 entries', 'unsupported-feature', [[72, 1n << 4n]]],
  ['an external data file', 'unsupported-feature', [[72, 1n << 2n]]],
  ['zstd compression', 'unsupported-feature', [[72, 1n << 3n], [104, [1]]]],
  ['refcount_order 7', 'unsupported-feature', [[96, 7]]],
  ['a header_length below 104', 'corrupt', [[100, 72]]],
  ['a header_length past the cluster', 'corrupt', [[100, 0x7ffffff8]]],
  ['a header extension longer than the cluster', 'corrupt', [[112, 0x12345678], [116, 0xffffffff]]],
  ['a full-disk-encryption header extension', 'unsupported-feature', [[112, 0x0537be77], [116, 0]]],
  ['a backing file name of 5000 bytes', 'too-large', [[8, 512n], [16, 5000]]],
  ['a backing file name past the header cluster', 'corrupt', [[8, BigInt(CLUSTER - 4)], [16, 100]]],
  ['a refcount block past the end of the file', 'corrupt', [[REFCOUNT_TABLE, 2n ** 40n]]],
  ['a refcount block on top of the L1 table', 'corrupt', [[REFCOUNT_TABLE + 8, BigInt(L1_TABLE)]]],
  ['a refcount block on top of the header', 'corrupt', [[REFCOUNT_TABLE + 8, 512n]]],
  ['a dirty image opened for writing', 'unsupported-feature', [[72, 1n]]],
  ['an image QEMU marked corrupt opened for writing', 'corrupt', [[72, 2n]]],
];

for (const [what, kind, patches] of cases) {
  test(`an image with ${what} is refused as ${kind}`, async () => {
    const path = await base();
    patch(path, patches);
    const error = await refusal(path);
    assert.equal(error.kind, kind, error.message);
    assert.equal(error.path, path);
    assert.ok(error.message.includes(path), 'the message names the image');
  });
}

test('a dirty or corrupt-marked image can still be opened read-only', async () => {
  for (const bits of [1n, 2n]) {
    const path = await base();
    patch(path, [[72, bits]]);
    const image = await Qcow2Image.open(path, { readOnly: true });
    const got = new Uint8Array(4);
    await image.read(0, got);
    assert.deepEqual(got, Uint8Array.of(0xaa, 0xaa, 0xaa, 0xaa));
    await image.close();
  }
});

test('files too short or empty are not qcow2 images', async () => {
  for (const contents of [new Uint8Array(0), Uint8Array.of(0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3)]) {
    const path = join(dir, `short-${counter++}.qcow2`);
    writeFileSync(path, contents);
    assert.equal((await refusal(path)).kind, 'bad-magic');
  }
});

test('a snapshot entry with an absurd L1 table or extra data is refused', async () => {
  for (const [kind, entry] of [['too-large', { l1Size: 0xffffffff, extra: 16 }], ['corrupt', { l1Size: 1, extra: 0xffff }]] as const) {
    const path = await base();
    // A snapshot table in a fifth cluster: L1 offset, l1_size, id/name sizes, ..., extra_data_size.
    const table = Buffer.alloc(CLUSTER);
    table.writeBigUInt64BE(BigInt(L1_TABLE), 0);
    table.writeUInt32BE(entry.l1Size, 8);
    table.writeUInt32BE(entry.extra, 36);
    const fd = openSync(path, 'r+');
    writeSync(fd, table, 0, table.length, 4 * CLUSTER);
    closeSync(fd);
    patch(path, [[60, 1], [64, BigInt(4 * CLUSTER)]]);
    assert.equal((await refusal(path)).kind, kind);
  }
});

test('65536 snapshots (the most allowed) are read; a snapshot recording an absurd disk size cannot be reverted to', async () => {
  const path = await base();
  const entry = Buffer.alloc(56); // 40 fixed bytes + 16 of extra data, no id or name, no L1 table
  entry.writeUInt32BE(16, 36);
  const table = Buffer.alloc(65536 * 56);
  for (let i = 0; i < 65536; i++) entry.copy(table, i * 56);
  table.writeBigUInt64BE(2n ** 62n, 48); // snapshot 0: disk_size in its extra data
  table.writeUInt16BE(1, 14); // ... and a one-byte name, 'x', which shifts the entries after it
  const first = Buffer.concat([table.subarray(0, 56), Buffer.from('x'), Buffer.alloc(7), table.subarray(56)]);
  const fd = openSync(path, 'r+');
  writeSync(fd, first, 0, first.length, 8 * CLUSTER);
  closeSync(fd);
  patch(path, [[60, 65536], [64, BigInt(8 * CLUSTER)]]);
  const image = await Qcow2Image.open(path);
  assert.equal(image.listSnapshots().length, 65536);
  await assert.rejects(image.revertSnapshot('x'), (e: unknown) => e instanceof Qcow2Error && e.kind === 'corrupt');
  await image.close();
});

test('backing chains that loop, directly or through another image, are refused as backing-loop', async () => {
  const a = join(dir, `loop-a-${counter}.qcow2`);
  const b = join(dir, `loop-b-${counter++}.qcow2`);
  qemuImg('create', '-q', '-f', 'qcow2', a, '1M');
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', a, '-F', 'qcow2', b, '1M');
  qemuImg('rebase', '-q', '-u', '-b', b, '-F', 'qcow2', a);
  assert.equal((await refusal(a, { readOnly: true })).kind, 'backing-loop');
  assert.equal((await refusal(b)).kind, 'backing-loop');
  const self = join(dir, `loop-self-${counter++}.qcow2`);
  qemuImg('create', '-q', '-f', 'qcow2', self, '1M');
  qemuImg('rebase', '-q', '-u', '-b', self.split('/').pop()!, '-F', 'qcow2', self);
  assert.equal((await refusal(self)).kind, 'backing-loop');
});

test('a backing chain of 17 images is refused as too-large; 16 (15 qcow2 over a raw file) are fine', async () => {
  let previous = join(dir, `chain-${counter++}-0.raw`);
  writeFileSync(previous, new Uint8Array(4096).fill(3));
  const images: string[] = [];
  for (let i = 1; i <= 16; i++) {
    const path = join(dir, `chain-${counter}-${i}.qcow2`);
    qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', previous, '-F', i === 1 ? 'raw' : 'qcow2', path, '1M');
    images.push(path);
    previous = path;
  }
  counter++;
  const ok = await Qcow2Image.open(images[14]!, { readOnly: true });
  const got = new Uint8Array(2);
  await ok.read(4095, got);
  assert.deepEqual(got, Uint8Array.of(3, 0), 'reads reach the raw file at the bottom of the chain');
  await ok.close();
  const error = await refusal(images[15]!);
  assert.equal(error.kind, 'too-large');
  assert.match(error.message, /backing chain is deeper than 16/);
});

test('a missing backing file is reported as not-found with both names', async () => {
  const path = join(dir, `orphan-${counter++}.qcow2`);
  qemuImg('create', '-q', '-f', 'qcow2', '-u', '-b', 'gone.raw', '-F', 'raw', path, '1M');
  const error = await refusal(path);
  assert.equal(error.kind, 'not-found');
  assert.match(error.message, /gone\.raw/);
});

test('tables that point outside the file fail the access with corrupt, and check reports them without throwing', async () => {
  // L1 entry 0 -> an L2 table far past the end of the file.
  const l2Away = await base();
  patch(l2Away, [[L1_TABLE, 0x80000000n << 32n | 2n ** 40n]]);
  let image = await Qcow2Image.open(l2Away);
  await assert.rejects(image.read(0, new Uint8Array(512)), (e: unknown) => e instanceof Qcow2Error && e.kind === 'corrupt');
  await assert.rejects(image.write(0, new Uint8Array(512)), (e: unknown) => e instanceof Qcow2Error && e.kind === 'corrupt');
  const report = await image.check();
  assert.ok(report.corruptions > 0);
  assert.ok(report.problems.some((p) => /past the end of the file/.test(p)), report.problems.join('; '));
  await image.close();

  // The L2 entry of guest cluster 0 -> a misaligned data cluster; of cluster 1 -> compressed garbage.
  const l2Bad = await base();
  image = await Qcow2Image.open(l2Bad);
  const l1 = Buffer.alloc(8);
  const fd = openSync(l2Bad, 'r');
  const { readSync } = await import('node:fs');
  readSync(fd, l1, 0, 8, L1_TABLE);
  closeSync(fd);
  await image.close();
  const l2 = Number(l1.readBigUInt64BE(0) & ((1n << 56n) - 512n));
  patch(l2Bad, [[l2, (1n << 63n) | BigInt(5 * CLUSTER + 512)], [l2 + 8, (1n << 62n) | BigInt(REFCOUNT_BLOCK)]]);
  image = await Qcow2Image.open(l2Bad);
  await assert.rejects(image.read(0, new Uint8Array(1)), (e: unknown) => e instanceof Qcow2Error && e.kind === 'corrupt');
  await assert.rejects(image.read(CLUSTER, new Uint8Array(1)), (e: unknown) => e instanceof Qcow2Error && e.kind === 'corrupt' && e.cause !== undefined);
  assert.ok((await image.check()).corruptions > 0);
  await image.close();

  // A refcount block that says the header and the first tables (clusters 0..3) are free.
  const zeroed = await base();
  const fd2 = openSync(zeroed, 'r+');
  writeSync(fd2, Buffer.alloc(8), 0, 8, REFCOUNT_BLOCK);
  closeSync(fd2);
  image = await Qcow2Image.open(zeroed);
  const damage = await image.check();
  assert.equal(damage.corruptions, 4, damage.problems.join('; '));
  assert.ok(damage.problems.some((p) => /cluster 0 has refcount 0 but is referenced 1 times/.test(p)), damage.problems.join('; '));
  // The first "free" cluster is now the header: allocation must refuse it rather than overwrite it.
  await assert.rejects(image.write(8 * CLUSTER, new Uint8Array(512).fill(1)), (e: unknown) => e instanceof Qcow2Error && e.kind === 'corrupt' && /overwrite metadata/.test(e.message));
  await image.close();
  const still = await Qcow2Image.open(zeroed, { readOnly: true });
  const first = new Uint8Array(4);
  await still.read(0, first);
  assert.deepEqual(first, Uint8Array.of(0xaa, 0xaa, 0xaa, 0xaa), 'the header and tables survived');
  await still.close();
});

test('a cluster mapped twice is reported by check as a corruption, as qemu-img does', async () => {
  const path = await base();
  const l1 = Buffer.alloc(8);
  const { readSync } = await import('node:fs');
  const fd = openSync(path, 'r');
  readSync(fd, l1, 0, 8, L1_TABLE);
  const entry = Buffer.alloc(8);
  const l2 = Number(l1.readBigUInt64BE(0) & ((1n << 56n) - 512n));
  readSync(fd, entry, 0, 8, l2);
  closeSync(fd);
  patch(path, [[l2 + 8, [...entry]]]); // guest cluster 1 now shares guest cluster 0's host cluster
  const image = await Qcow2Image.open(path, { readOnly: true });
  const report = await image.check();
  await image.close();
  assert.ok(report.problems.some((p) => /refcount 1 but is referenced 2 times/.test(p)), report.problems.join('; '));
  assert.ok(qemuCheck(path).corruptions > 0, 'qemu-img check agrees');
});

test('the unpatched template is a valid image, so each refusal above comes from its patch', async () => {
  const path = await base();
  qemuIo(path, 'read -P 0xaa 0 64k');
  const image = await Qcow2Image.open(path);
  const got = new Uint8Array(CLUSTER);
  await image.read(0, got);
  assert.ok(got.every((b) => b === 0xaa));
  assert.equal((await image.check()).corruptions, 0);
  await image.close();
});
