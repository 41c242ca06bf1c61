import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentStorage, DEFAULT_LUN } from './agent-storage.js';
import { HostError, type HostErrorKind } from './host-error.js';
import type { DiskSpec, VmDefinition } from './vm-definition.js';
import { MANIFEST_FILE } from '../storage/lun/lun-manifest.js';
import { withTempDir } from '../../tests/support/temp-dir.js';

const MiB = 1024 * 1024;

interface Setup {
  storage: AgentStorage;
  /** The definitions the storage sees. */
  definitions: VmDefinition[];
  dir: string;
  logged: string[];
  reopen(): Promise<AgentStorage>;
}

async function withStorage(body: (s: Setup) => Promise<void>): Promise<void> {
  await withTempDir('vireo-storage-', async (dir) => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const definitions: VmDefinition[] = [];
    const logged: string[] = [];
    const open = () => AgentStorage.open({ dataDir, capacityBytes: 256 * MiB, definitions: () => definitions, log: (line) => logged.push(line) });
    await body({ storage: await open(), definitions, dir, logged, reopen: open });
  });
}

function definition(name: string, disks: DiskSpec[]): VmDefinition {
  return { version: 1, name, uuid: name, generation: 1, autostart: false, spec: { ramMiB: 64, boot: { kernel: '/k' }, disks, network: 'none', console: 'ttyS0', cpu: { weight: 100, capPercent: null }, jit: 'on' } };
}

async function refused(promise: Promise<unknown> | (() => unknown), kind: HostErrorKind, message: RegExp): Promise<void> {
  await assert.rejects(async () => (typeof promise === 'function' ? promise() : promise), (e: unknown) => {
    assert.ok(e instanceof HostError, String(e));
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, message);
    return true;
  });
}

test('default is always there; LUNs are added in new or empty directories, listed by name, and reopened from the list', () => withStorage(async ({ storage, dir, reopen }) => {
  assert.deepEqual(storage.listLuns().map((l) => [l.name, l.usage.capacityBytes, l.volumes]), [[DEFAULT_LUN, 256 * MiB, 0]]);
  mkdirSync(join(dir, 'empty'));
  const fast = await storage.addLun({ name: 'fast', path: join(dir, 'empty'), capacityBytes: 64 * MiB });
  assert.deepEqual(fast.usage, { capacityBytes: 64 * MiB, overcommitRatio: 4, provisionLimit: 256 * MiB, provisioned: 0, allocated: 0, free: 64 * MiB });
  assert.equal(fast.path, join(dir, 'empty'));
  const bulk = await storage.addLun({ name: 'bulk', path: join(dir, 'new', 'bulk'), overcommitRatio: 2 });
  assert.ok(existsSync(join(dir, 'new', 'bulk', MANIFEST_FILE)), 'a missing directory is made');
  assert.ok(bulk.usage.capacityBytes >= 1024 * MiB, 'the default capacity is the free space of the file system');
  await storage.createVolume('fast', { name: 'data', sizeMiB: 8 });
  assert.deepEqual(storage.listLuns().map((l) => [l.name, l.volumes]), [['bulk', 0], [DEFAULT_LUN, 0], ['fast', 1]]);
  const again = await reopen();
  assert.deepEqual(again.listLuns().map((l) => [l.name, l.path, l.volumes]), [['bulk', join(dir, 'new', 'bulk'), 0], [DEFAULT_LUN, storage.getLun(DEFAULT_LUN).path, 0], ['fast', join(dir, 'empty'), 1]]);
  assert.equal(again.getVolume('fast', 'data').sizeBytes, 8 * MiB);
}));

test('a removed LUN is forgotten but left on disk, and adding its directory again adopts it with its volumes and capacity', () => withStorage(async ({ storage, dir, reopen }) => {
  const path = join(dir, 'lun');
  await storage.addLun({ name: 'a', path, capacityBytes: 32 * MiB, overcommitRatio: 1 });
  await storage.createVolume('a', { name: 'keep', sizeMiB: 4 });
  await refused(storage.removeLun('a'), 'invalid-state', /still has volumes \(keep\)/);
  await storage.deleteVolume('a', 'keep');
  await storage.removeLun('a');
  await refused(() => storage.getLun('a'), 'not-found', /no physical LUN named a/);
  assert.ok(existsSync(join(path, MANIFEST_FILE)), 'the manifest stays');
  assert.deepEqual((await reopen()).listLuns().map((l) => l.name), [DEFAULT_LUN], 'the list forgot it too');
  const adopted = await storage.addLun({ name: 'b', path, capacityBytes: 999 * MiB, overcommitRatio: 3 });
  assert.deepEqual([adopted.usage.capacityBytes, adopted.usage.overcommitRatio], [32 * MiB, 1], 'capacity untouched');
}));

test('adopting keeps the volumes a LUN already has', () => withStorage(async ({ storage, dir }) => {
  const path = join(dir, 'shared');
  await storage.addLun({ name: 'one', path, capacityBytes: 32 * MiB });
  await storage.createVolume('one', { name: 'disk', sizeMiB: 4 });
  const list = join(dir, 'data', 'physical-luns.json');
  writeFileSync(list, JSON.stringify({ version: 1, luns: [] }));
  const other = await AgentStorage.open({ dataDir: join(dir, 'data'), definitions: () => [], log: () => {} });
  const adopted = await other.addLun({ name: 'two', path });
  assert.equal(adopted.volumes, 1);
  assert.deepEqual(other.listVolumes('two').map((v) => [v.name, v.lun, v.sizeBytes, v.path]), [['disk', 'two', 4 * MiB, join(path, 'disk.qcow2')]]);
  assert.deepEqual(JSON.parse(readFileSync(list, 'utf8')), { version: 1, luns: [{ name: 'two', path }] });
}));

test('names and paths are checked: default reserved, taken names and paths, relative paths, the data directory, non-empty directories', () => withStorage(async ({ storage, dir }) => {
  await storage.addLun({ name: 'a', path: join(dir, 'a') });
  await refused(storage.addLun({ name: DEFAULT_LUN, path: join(dir, 'x') }), 'exists', /the agent's own physical LUN/);
  await refused(storage.removeLun(DEFAULT_LUN), 'invalid-state', /cannot be removed/);
  await refused(storage.addLun({ name: 'a', path: join(dir, 'y') }), 'exists', /already has a physical LUN named a/);
  await refused(storage.addLun({ name: 'b', path: `${join(dir, 'a')}/` }), 'exists', /already physical LUN a/);
  await refused(storage.addLun({ name: 'b', path: join(dir, 'data', 'luns') }), 'exists', /already physical LUN default/);
  await refused(storage.addLun({ name: 'b', path: join(dir, 'a', 'inner') }), 'invalid-request', /would nest with physical LUN a/);
  await refused(storage.addLun({ name: 'b', path: 'relative/lun' }), 'invalid-request', /not absolute/);
  await refused(storage.addLun({ name: 'b', path: join(dir, 'data', 'elsewhere') }), 'invalid-request', /inside the agent's data directory/);
  await refused(storage.addLun({ name: 'b', path: join(dir, 'data') }), 'invalid-request', /nest with physical LUN default/);
  mkdirSync(join(dir, 'full'));
  writeFileSync(join(dir, 'full', 'file'), 'x');
  await refused(storage.addLun({ name: 'b', path: join(dir, 'full') }), 'invalid-request', /neither a physical LUN .* nor empty/);
  writeFileSync(join(dir, 'plain'), 'x');
  await refused(storage.addLun({ name: 'b', path: join(dir, 'plain') }), 'invalid-request', /cannot use .* as a physical LUN/);
  await refused(storage.addLun({ name: 'b', path: join(dir, 'bad'), capacityBytes: 1, overcommitRatio: 0 }), 'invalid-request', /overcommit ratio 0/);
  assert.equal(existsSync(join(dir, 'bad')), false, 'a directory made for a LUN that failed goes again');
  assert.deepEqual(storage.listLuns().map((l) => l.name), ['a', DEFAULT_LUN]);
}));

test('volumes: created thin, listed by name, names unique, budgets kept, unknown ones not found', () => withStorage(async ({ storage, dir }) => {
  await storage.addLun({ name: 'small', path: join(dir, 'small'), capacityBytes: 64 * MiB, overcommitRatio: 1 });
  const b = await storage.createVolume('small', { name: 'b', sizeMiB: 16 });
  assert.deepEqual({ ...b, allocatedBytes: 0 }, { name: 'b', lun: 'small', path: join(dir, 'small', 'b.qcow2'), sizeBytes: 16 * MiB, allocatedBytes: 0, usedBy: null });
  assert.ok(b.allocatedBytes > 0 && b.allocatedBytes < MiB, `thin: ${b.allocatedBytes} bytes`);
  await storage.createVolume('small', { name: 'a', sizeMiB: 16 });
  assert.deepEqual(storage.listVolumes('small').map((v) => v.name), ['a', 'b']);
  assert.equal(storage.getLun('small').usage.provisioned, 32 * MiB);
  await refused(storage.createVolume('small', { name: 'a', sizeMiB: 1 }), 'exists', /already has a virtual LUN "a"/);
  await refused(storage.createVolume('small', { name: 'c', sizeMiB: 33 }), 'over-budget', /past the limit/);
  await refused(storage.createVolume('nope', { name: 'c', sizeMiB: 1 }), 'not-found', /no physical LUN named nope/);
  await refused(() => storage.getVolume('small', 'c'), 'not-found', /has no volume c/);
  await refused(storage.deleteVolume('small', 'c'), 'not-found', /has no volume c/);
  await storage.deleteVolume('small', 'a');
  assert.equal(existsSync(join(dir, 'small', 'a.qcow2')), false);
  assert.equal(storage.getLun('small').usage.provisioned, 16 * MiB);
}));

test('a volume attached to a definition is used by it: not deletable, not attachable elsewhere; the disks it made go, the volume stays', () => withStorage(async ({ storage, definitions, dir }) => {
  await storage.addLun({ name: 'fast', path: join(dir, 'fast') });
  await storage.createVolume('fast', { name: 'data', sizeMiB: 4 });
  const disks = await storage.provision('web', [{ sizeMiB: 2 }, { volume: { lun: 'fast', name: 'data' }, readOnly: true, limits: { iops: 5 } }]);
  assert.deepEqual(disks[1], { readOnly: true, limits: { iops: 5 }, path: join(dir, 'fast', 'data.qcow2'), format: 'qcow2', volume: { lun: 'fast', name: 'data' } });
  assert.equal(disks[0]!.lun, 'web-disk0');
  // Held for the define in progress, then named by its definition.
  assert.equal(storage.getVolume('fast', 'data').usedBy, 'web');
  await refused(storage.provision('db', [{ volume: { lun: 'fast', name: 'data' } }]), 'invalid-state', /attached to VM web/);
  definitions.push(definition('web', disks));
  storage.release('web');
  assert.equal(storage.getVolume('fast', 'data').usedBy, 'web');
  assert.equal(storage.getVolume(DEFAULT_LUN, 'web-disk0').usedBy, 'web', 'the disks made for a VM are its volumes too');
  await refused(storage.deleteVolume('fast', 'data'), 'invalid-state', /attached to VM web; delete that VM first/);
  await refused(storage.deleteVolume(DEFAULT_LUN, 'web-disk0'), 'invalid-state', /attached to VM web/);
  await refused(storage.provision('db', [{ volume: { lun: 'fast', name: 'data' } }]), 'invalid-state', /attached to VM web/);
  await refused(storage.provision('db', [{ volume: { lun: 'fast', name: 'none' } }]), 'not-found', /has no volume none/);
  await storage.remove(disks);
  definitions.length = 0;
  assert.deepEqual(storage.listVolumes(DEFAULT_LUN), [], 'the disk made for the VM is gone');
  assert.equal(storage.getVolume('fast', 'data').usedBy, null, 'the attached volume stays');
  await refused(storage.provision('db', [{ volume: { lun: 'fast', name: 'data' } }, { volume: { lun: 'fast', name: 'data' } }]), 'invalid-definition', /attached twice/);
  storage.release('db');
  await storage.deleteVolume('fast', 'data');
}));

test('a listed LUN that cannot be opened is reported, not made anew; its name stays taken until removed', () => withStorage(async ({ storage, definitions, dir, logged, reopen }) => {
  await storage.addLun({ name: 'usb', path: join(dir, 'usb') });
  await storage.createVolume('usb', { name: 'photos', sizeMiB: 1 });
  definitions.push(definition('album', [{ path: join(dir, 'usb', 'photos.qcow2'), volume: { lun: 'usb', name: 'photos' }, readOnly: false, limits: {} }]));
  renameSync(join(dir, 'usb'), join(dir, 'unplugged'));
  const again = await reopen();
  assert.match(logged.join('\n'), /physical LUN usb .* is unavailable/);
  assert.equal(existsSync(join(dir, 'usb')), false);
  assert.deepEqual(again.listLuns().map((l) => l.name), [DEFAULT_LUN]);
  await refused(() => again.getLun('usb'), 'not-found', /could not be opened when the agent started/);
  await refused(again.addLun({ name: 'usb', path: join(dir, 'other') }), 'exists', /named usb/);
  await refused(again.removeLun('usb'), 'invalid-state', /VM album attaches volumes of physical LUN usb/);
  definitions.length = 0;
  await again.removeLun('usb');
  const back = await again.addLun({ name: 'usb', path: join(dir, 'unplugged') });
  assert.deepEqual([back.name, back.volumes], ['usb', 1]);
}));

test('a damaged list stops the opening rather than losing the LUNs it lists', () => withStorage(async ({ dir, reopen }) => {
  writeFileSync(join(dir, 'data', 'physical-luns.json'), JSON.stringify({ version: 1, luns: [{ name: 'x', path: 'relative' }] }));
  await refused(reopen(), 'corrupt-file', /entry 0 lacks a valid name or absolute path/);
}));
