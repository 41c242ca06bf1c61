import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockBackendError } from '../block-backend.js';
import { LunError, type LunErrorKind } from './lun-error.js';
import { MANIFEST_FILE } from './lun-manifest.js';
import { PhysicalLun } from './physical-lun.js';
import { pattern, qemuCheck } from '../../../tests/storage/qemu-img.js';

const root = mkdtempSync(join(tmpdir(), 'vireo-physical-lun-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `plun-${counter++}`);
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const lunError = (kind: LunErrorKind) => (e: unknown) => e instanceof LunError && e.kind === kind;

test('the manifest records capacity, limit and virtual LUNs, and survives reopening', async () => {
  const dir = freshDir();
  const physical = await PhysicalLun.create(dir, { capacityBytes: 10 * MiB, overcommitRatio: 4 });
  const a = await physical.createLun('disk-a', { size: 8 * MiB });
  await physical.createLun('disk_b.v2', { size: 16 * MiB });
  await physical.cloneLun('disk-a', 'clone-1');

  const again = await PhysicalLun.open(dir);
  assert.equal(again.capacityBytes, 10 * MiB);
  assert.equal(again.overcommitRatio, 4);
  assert.deepEqual(again.list().map((l) => [l.name, l.virtualSize, l.template, l.backing]), [
    ['disk-a', 8 * MiB, true, null], ['disk_b.v2', 16 * MiB, false, null], ['clone-1', 8 * MiB, false, 'disk-a'],
  ]);
  assert.equal(again.get('disk-a').uuid, a.uuid);
  assert.match(a.uuid, /^[0-9a-f-]{36}$/);
  assert.notEqual(again.get('clone-1').uuid, a.uuid);
  assert.ok(Date.parse(a.created) <= Date.now());
  assert.equal(again.usage().provisioned, 32 * MiB);
  assert.equal(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).version, 1);
  assert.equal(existsSync(join(dir, `${MANIFEST_FILE}.tmp`)), false, 'no temporary manifest is left behind');
  await assert.rejects(PhysicalLun.create(dir, { capacityBytes: MiB }), lunError('exists'));
});

test('a damaged, foreign or missing manifest is refused with a clear error', async () => {
  const dir = freshDir();
  await PhysicalLun.create(dir, { capacityBytes: MiB });
  const path = join(dir, MANIFEST_FILE);
  const good = readFileSync(path, 'utf8');
  const cases: Array<[string, RegExp]> = [
    ['{"format": "vireo-physical-lun", "version": 1, "capacityBytes": 10', /not valid JSON/],
    ['{"format": "something-else", "version": 1}', /format/],
    [good.replace('"version": 1', '"version": 7'), /version 7.*newer Vireo/],
    [good.replace('"capacityBytes": 1048576', '"capacityBytes": -5'), /capacity/],
    [good.replace('"luns": []', '"luns": [{"name": "../etc", "uuid": "00000000-0000-0000-0000-000000000000", "virtualSize": 512, "template": false, "backing": null, "created": "2024-01-01T00:00:00Z"}]'), /not a valid virtual LUN name/],
    [good.replace('"luns": []', '"luns": [{"name": "x", "virtualSize": 512}]'), /entry 0/],
  ];
  for (const [text, message] of cases) {
    writeFileSync(path, text);
    await assert.rejects(PhysicalLun.open(dir), (e: unknown) => lunError('bad-manifest')(e) && message.test((e as Error).message) && (e as Error).message.includes(path));
  }
  await assert.rejects(PhysicalLun.open(freshDir()), lunError('not-found'));
});

test('virtual LUN names cannot escape the directory or grow without bound', async () => {
  const physical = await PhysicalLun.create(freshDir(), { capacityBytes: 10 * MiB });
  for (const name of ['', '..', '../x', 'a/b', 'a\\b', '/abs', '.hidden', 'a..b', 'x'.repeat(65), 'sp ace', 'nul\0']) {
    await assert.rejects(physical.createLun(name, { size: MiB }), lunError('invalid-name'), JSON.stringify(name));
  }
  await physical.createLun('x'.repeat(64), { size: MiB });
  await assert.rejects(physical.createLun('x'.repeat(64), { size: MiB }), lunError('exists'));
  await assert.rejects(physical.createLun('odd', { size: 1000 }), lunError('invalid-argument'));
  await assert.rejects(PhysicalLun.create(freshDir(), { capacityBytes: 0 }), lunError('invalid-argument'));
  await assert.rejects(PhysicalLun.create(freshDir(), { capacityBytes: MiB, overcommitRatio: -1 }), lunError('invalid-argument'));
});

test('provisioning past capacity x overcommit ratio is refused, for new LUNs, clones and growth', async () => {
  const physical = await PhysicalLun.create(freshDir(), { capacityBytes: 10 * MiB, overcommitRatio: 2 });
  await physical.createLun('big', { size: 15 * MiB });
  await assert.rejects(physical.createLun('more', { size: 6 * MiB }), (e: unknown) => lunError('overcommit')(e) && /20971520/.test((e as Error).message));
  await physical.createLun('fits', { size: 5 * MiB });
  assert.deepEqual({ ...physical.usage(), allocated: 0, free: 0 }, { capacityBytes: 10 * MiB, overcommitRatio: 2, provisionLimit: 20 * MiB, provisioned: 20 * MiB, allocated: 0, free: 0 });
  await assert.rejects(physical.cloneLun('fits', 'clone'), lunError('overcommit'));
  const lun = await physical.openLun('fits');
  await assert.rejects(lun.resize(6 * MiB), (e: unknown) => e instanceof BlockBackendError && e.kind === 'no-space' && e.cause instanceof LunError && e.cause.kind === 'overcommit');
  assert.equal(lun.size, 5 * MiB);
  await lun.close();
  assert.equal(physical.get('fits').virtualSize, 5 * MiB);
  await physical.setLimits({ overcommitRatio: 3 });
  await physical.cloneLun('fits', 'clone');
  assert.equal((await PhysicalLun.open(physical.dir)).usage().provisioned, 25 * MiB);
  await assert.rejects(physical.setLimits({ overcommitRatio: 1 }), lunError('overcommit'));
});

test('allocated follows the images on the host: stat blocks, live while a LUN is open', async () => {
  const physical = await PhysicalLun.create(freshDir(), { capacityBytes: 100 * MiB, overcommitRatio: 10 });
  await physical.createLun('a', { size: 64 * MiB });
  await physical.createLun('b', { size: 64 * MiB });
  const onHost = () => ['a', 'b'].reduce((sum, n) => sum + statSync(join(physical.dir, `${n}.qcow2`)).blocks * 512, 0);
  const empty = physical.usage().allocated;
  assert.equal(empty, onHost());
  assert.ok(empty < MiB, `two empty images take ${empty} bytes`);
  const lun = await physical.openLun('a');
  await lun.write(0, pattern(3 * MiB, 1));
  assert.ok(physical.usage().allocated >= empty + 3 * MiB, 'the growth shows while the LUN is open');
  assert.equal(physical.usage().allocated, physical.get('a').allocated + physical.get('b').allocated);
  assert.equal(lun.allocated, physical.get('a').allocated);
  await lun.close();
  assert.equal(physical.usage().allocated, onHost());
  assert.equal(physical.usage().free, 100 * MiB - onHost());
  assert.equal((await PhysicalLun.open(physical.dir)).usage().allocated, onHost());
});

test('a write that would pass the capacity is refused with no-space before the image changes', async () => {
  const capacity = 2 * MiB;
  const physical = await PhysicalLun.create(freshDir(), { capacityBytes: capacity, overcommitRatio: 1000 });
  await physical.createLun('full', { size: 64 * MiB });
  const lun = await physical.openLun('full');
  const path = join(physical.dir, 'full.qcow2');
  const chunk = 256 * KiB;
  let written = 0;
  let refused: unknown = null;
  let before = Buffer.alloc(0);
  for (; written < lun.size; written += chunk) {
    await lun.flush();
    before = readFileSync(path);
    try {
      await lun.write(written, pattern(chunk, written));
    } catch (e) {
      refused = e;
      break;
    }
    assert.ok(physical.usage().allocated <= capacity, `allocated ${physical.usage().allocated} stays within the capacity`);
  }
  assert.ok(refused instanceof BlockBackendError && refused.kind === 'no-space', `refused with no-space: ${String(refused)}`);
  assert.match((refused as Error).message, /physical LUN .* is full/);
  assert.ok(written >= MiB, `${written} bytes fit before the refusal`);
  assert.ok(readFileSync(path).equals(before), 'the refused write left the image file byte for byte as it was');
  // What fits still works: overwriting allocated clusters in place needs no space.
  await lun.write(0, pattern(chunk, 99));
  await lun.close();
  assert.deepEqual((({ corruptions, leaks }) => ({ corruptions, leaks }))(qemuCheck(path)), { corruptions: 0, leaks: 0 });
  const again = await physical.openLun('full', { readOnly: true });
  const back = new Uint8Array(chunk);
  await again.read(chunk, back);
  assert.deepEqual(back, pattern(chunk, chunk));
  await again.read(0, back);
  assert.deepEqual(back, pattern(chunk, 99));
  await again.close();
});

test('deleting a LUN removes its image; open LUNs and templates with clones are kept', async () => {
  const physical = await PhysicalLun.create(freshDir(), { capacityBytes: 10 * MiB, overcommitRatio: 1000 });
  await physical.createLun('base', { size: GiB });
  await physical.cloneLun('base', 'vm1');
  await assert.rejects(physical.deleteLun('base'), (e: unknown) => lunError('in-use')(e) && /vm1/.test((e as Error).message));
  const open = await physical.openLun('vm1');
  await assert.rejects(physical.deleteLun('vm1'), lunError('busy'));
  await open.close();
  await physical.deleteLun('vm1');
  assert.equal(existsSync(join(physical.dir, 'vm1.qcow2')), false);
  await physical.deleteLun('base');
  assert.deepEqual(physical.list(), []);
  assert.equal(physical.usage().provisioned, 0);
  assert.equal(physical.usage().allocated, 0);
  await assert.rejects(physical.deleteLun('base'), lunError('not-found'));
  assert.deepEqual((await PhysicalLun.open(physical.dir)).list(), []);
});

test('one writer or many readers; a template opens read-only only', async () => {
  const physical = await PhysicalLun.create(freshDir(), { capacityBytes: 10 * MiB, overcommitRatio: 100 });
  await physical.createLun('disk', { size: MiB });
  const writer = await physical.openLun('disk');
  await assert.rejects(physical.openLun('disk'), lunError('busy'));
  await assert.rejects(physical.openLun('disk', { readOnly: true }), lunError('busy'));
  await assert.rejects(physical.cloneLun('disk', 'c'), lunError('busy'));
  await writer.close();
  const r1 = await physical.openLun('disk', { readOnly: true });
  const r2 = await physical.openLun('disk', { readOnly: true });
  await assert.rejects(physical.openLun('disk'), lunError('busy'));
  await physical.cloneLun('disk', 'c');
  await physical.close();
  await assert.rejects(r1.read(0, new Uint8Array(1)), (e: unknown) => e instanceof BlockBackendError && e.kind === 'closed');
  await assert.rejects(r2.read(0, new Uint8Array(1)), (e: unknown) => e instanceof BlockBackendError && e.kind === 'closed');
  await assert.rejects(physical.openLun('disk'), lunError('read-only'));
  const reader = await physical.openLun('disk', { readOnly: true });
  assert.equal(reader.readOnly, true);
  await reader.close();
});
