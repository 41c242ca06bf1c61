import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockBackendError, type BlockBackendErrorKind } from '../block-backend.js';
import { runBlockBackendConformance } from '../block-backend-conformance.js';
import { Qcow2Image } from '../qcow2/qcow2-image.js';
import { LunError } from './lun-error.js';
import { PhysicalLun } from './physical-lun.js';
import type { VirtualLun } from './virtual-lun.js';
import { assertSameBytes, pattern, qemuCheck, qemuRaw } from '../../../tests/storage/qemu-img.js';

const root = mkdtempSync(join(tmpdir(), 'vireo-virtual-lun-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

async function freshPhysical(capacityBytes = 64 * MiB, overcommitRatio = 4096): Promise<PhysicalLun> {
  return PhysicalLun.create(join(root, `plun-${counter++}`), { capacityBytes, overcommitRatio });
}

const blockError = (kind: BlockBackendErrorKind) => (e: unknown) => e instanceof BlockBackendError && e.kind === kind;

function assertClean(path: string): void {
  const check = qemuCheck(path);
  assert.deepEqual({ corruptions: check.corruptions, leaks: check.leaks }, { corruptions: 0, leaks: 0 }, `qemu-img check ${path}`);
}

async function readAll(lun: VirtualLun): Promise<Uint8Array> {
  const out = new Uint8Array(lun.size);
  await lun.read(0, out);
  return out;
}

runBlockBackendConformance('VirtualLun', async (contents, { readOnly }) => {
  const physical = await freshPhysical();
  await physical.createLun('disk', { size: contents.length });
  let lun = await physical.openLun('disk');
  await lun.write(0, contents);
  if (readOnly) {
    await lun.close();
    lun = await physical.openLun('disk', { readOnly: true });
  }
  return { backend: lun, close: () => physical.close() };
});

test('a fresh 64 GiB virtual LUN takes under 1 MiB on the host, and space is taken on first write', async () => {
  const physical = await freshPhysical();
  await physical.createLun('thin', { size: 64 * GiB });
  const path = join(physical.dir, 'thin.qcow2');
  assert.ok(statSync(path).size < MiB, `the image file has ${statSync(path).size} bytes`);
  assert.ok(physical.get('thin').allocated < MiB);
  const lun = await physical.openLun('thin');
  assert.equal(lun.size, 64 * GiB);
  const before = lun.allocated;
  const data = pattern(4 * KiB, 5);
  await lun.write(60 * GiB + 12345, data);
  await lun.flush();
  const back = new Uint8Array(data.length);
  await lun.read(60 * GiB + 12345, back);
  assert.deepEqual(back, data);
  assert.ok(lun.allocated > before, 'the first write took space');
  assert.ok(lun.allocated < MiB, `one small write takes a data cluster and an L2 table, not more: ${lun.allocated}`);
  await lun.close();
  assertClean(path);
});

test('a linked clone reads its template, diverges on write, and never changes the template', async () => {
  const physical = await freshPhysical();
  await physical.createLun('golden', { size: 4 * MiB });
  const golden = await physical.openLun('golden');
  const original = pattern(4 * MiB, 42);
  await golden.write(0, original);
  await golden.close();
  const templatePath = join(physical.dir, 'golden.qcow2');
  const templateBytes = readFileSync(templatePath);

  await physical.cloneLun('golden', 'vm1');
  await physical.cloneLun('golden', 'vm2');
  assert.equal(physical.get('golden').template, true);
  const vm1 = await physical.openLun('vm1');
  const vm2 = await physical.openLun('vm2');
  assertSameBytes(await readAll(vm1), original, 'a new clone reads as its template');
  assert.ok(vm1.allocated < MiB, `a new clone shares the template's data: ${vm1.allocated}`);
  const change = pattern(100 * KiB, 7);
  await vm1.write(MiB + 3, change);
  await vm1.discard(2 * MiB, MiB);
  await vm1.writeZeroes(3 * MiB, 64 * KiB);
  const expected = original.slice();
  expected.set(change, MiB + 3);
  expected.fill(0, 2 * MiB, 3 * MiB + 64 * KiB);
  assertSameBytes(await readAll(vm1), expected, 'the clone after its writes');
  assertSameBytes(await readAll(vm2), original, 'the other clone is unaffected');
  await vm1.close();
  await vm2.close();

  assert.ok(readFileSync(templatePath).equals(templateBytes), 'the template image is bit-identical');
  const reader = await physical.openLun('golden', { readOnly: true });
  await assert.rejects(reader.write(0, Uint8Array.of(1)), blockError('read-only'));
  await assert.rejects(reader.createSnapshot('s'), (e: unknown) => e instanceof LunError && e.kind === 'read-only');
  await reader.close();
  assertClean(join(physical.dir, 'vm1.qcow2'));
  assertSameBytes(qemuRaw(join(physical.dir, 'vm1.qcow2')), expected, 'qemu-img reads the clone through its backing file');
});

test('snapshots: revert gives the old contents back, list and delete', async () => {
  const physical = await freshPhysical();
  await physical.createLun('disk', { size: 2 * MiB });
  const lun = await physical.openLun('disk');
  const first = pattern(2 * MiB, 1);
  await lun.write(0, first);
  await lun.createSnapshot('before-upgrade');
  await lun.write(100 * KiB, pattern(300 * KiB, 2));
  await lun.discard(MiB, MiB);
  assert.deepEqual(lun.listSnapshots().map((s) => s.name), ['before-upgrade']);
  await lun.revertSnapshot('before-upgrade');
  assertSameBytes(await readAll(lun), first, 'after revert');
  await assert.rejects(lun.revertSnapshot('nope'), (e: unknown) => e instanceof LunError && e.kind === 'not-found' && /before-upgrade/.test((e as Error).message));
  await assert.rejects(lun.createSnapshot('before-upgrade'), (e: unknown) => e instanceof LunError && e.kind === 'invalid-argument');
  await lun.deleteSnapshot('before-upgrade');
  assert.deepEqual(lun.listSnapshots(), []);
  assertSameBytes(await readAll(lun), first, 'after delete');
  await lun.close();
  assertClean(join(physical.dir, 'disk.qcow2'));
});

test('discard and write-zeroes give space back: allocated drops', async () => {
  const physical = await freshPhysical();
  await physical.createLun('disk', { size: 16 * MiB });
  const lun = await physical.openLun('disk');
  await lun.write(0, pattern(8 * MiB, 3));
  await lun.flush();
  const full = lun.allocated;
  await lun.discard(4 * MiB, 4 * MiB);
  const afterDiscard = lun.allocated;
  assert.ok(afterDiscard <= full - 4 * MiB, `discarding the last 4 MiB written frees them: ${full} -> ${afterDiscard}`);
  await lun.writeZeroes(2 * MiB, 2 * MiB);
  assert.ok(lun.allocated <= afterDiscard - 2 * MiB, `write-zeroes of the (now last) 2 MiB frees them: ${afterDiscard} -> ${lun.allocated}`);
  assert.equal(physical.usage().allocated, lun.allocated);
  const all = await readAll(lun);
  assertSameBytes(all.subarray(0, 2 * MiB), pattern(8 * MiB, 3).subarray(0, 2 * MiB), 'the data kept');
  assertSameBytes(all.subarray(2 * MiB), new Uint8Array(14 * MiB), 'the zeroed and discarded range');
  // Freed clusters are reused: writing again takes the space back without passing the earlier peak.
  await lun.write(2 * MiB, pattern(6 * MiB, 4));
  assert.ok(lun.allocated <= full);
  await lun.close();
  assert.equal(physical.get('disk').allocated, statSync(join(physical.dir, 'disk.qcow2')).blocks * 512);
  assertClean(join(physical.dir, 'disk.qcow2'));
});

test('online resize grows the disk and its provisioned size, and survives reopening', async () => {
  const physical = await freshPhysical(8 * MiB, 1);
  await physical.createLun('disk', { size: MiB });
  const lun = await physical.openLun('disk');
  await lun.write(0, pattern(MiB, 8));
  await lun.resize(3 * MiB);
  assert.equal(lun.size, 3 * MiB);
  assert.equal(physical.get('disk').virtualSize, 3 * MiB);
  assert.equal(physical.usage().provisioned, 3 * MiB);
  await lun.write(3 * MiB - 512, pattern(512, 9));
  await assert.rejects(lun.resize(2 * MiB), blockError('out-of-range'));
  await assert.rejects(lun.resize(9 * MiB), blockError('no-space'));
  assert.equal(lun.size, 3 * MiB);
  assert.equal(physical.get('disk').virtualSize, 3 * MiB, 'a refused resize leaves the manifest as it was');
  await lun.close();
  const again = await PhysicalLun.open(physical.dir);
  assert.equal(again.get('disk').virtualSize, 3 * MiB);
  const reopened = await again.openLun('disk', { readOnly: true });
  assert.equal(reopened.size, 3 * MiB);
  const tail = new Uint8Array(512);
  await reopened.read(3 * MiB - 512, tail);
  assert.deepEqual(tail, pattern(512, 9));
  await reopened.close();
});

test('reverting to a snapshot taken before a resize gives the old size back, in the manifest too', async () => {
  const physical = await freshPhysical();
  await physical.createLun('disk', { size: MiB });
  const lun = await physical.openLun('disk');
  await lun.createSnapshot('small');
  await lun.resize(2 * MiB);
  await lun.revertSnapshot('small');
  assert.equal(lun.size, MiB);
  assert.equal(physical.get('disk').virtualSize, MiB);
  await lun.close();
});

test('flush makes written data durable in the image file while the LUN stays open', async () => {
  const physical = await freshPhysical();
  await physical.createLun('disk', { size: 4 * MiB });
  const lun = await physical.openLun('disk');
  const data = pattern(MiB + 77, 11);
  await lun.write(123, data);
  await lun.flush();
  // Another reader of the file sees the data and the metadata that points at it.
  const other = await Qcow2Image.open(join(physical.dir, 'disk.qcow2'), { readOnly: true });
  const back = new Uint8Array(data.length);
  await other.read(123, back);
  await other.close();
  assertSameBytes(back, data, 'read by a second opener after flush');
  await lun.close();
});
