import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPartitionTable } from './partition-table.js';
import { ProbeError } from './probe-error.js';
import { GPT_TYPES, assembleDisk, makeFat, run, patchFile, withDiskReader } from '../../../tests/support/boot-disk.js';
import { withTempDir } from '../../../tests/support/temp-dir.js';

function tableOf(path: string) {
  return withDiskReader(path, readPartitionTable);
}

test('a GPT written by sfdisk: numbers, offsets, types, the legacy BIOS bootable attribute', async () => {
  await withTempDir('vireo-gpt-', async (dir) => {
    const disk = assembleDisk(join(dir, 'disk.img'), [{ type: GPT_TYPES.esp, sizeMiB: 2 }, { type: GPT_TYPES.linux, sizeMiB: 3, bootable: true }]);
    const table = await tableOf(disk);
    assert.equal(table?.scheme, 'gpt');
    assert.deepEqual(table.partitions.map((p) => [p.number, p.offset, p.size, p.typeName, p.bootable, p.esp]), [
      [1, 1 << 20, 2 << 20, 'EFI system', false, true],
      [2, 3 << 20, 3 << 20, 'Linux filesystem', true, false],
    ]);
  });
});

test('a GPT whose primary header is damaged is read from its backup; with both damaged it is a clear error', async () => {
  await withTempDir('vireo-gpt-', async (dir) => {
    const disk = assembleDisk(join(dir, 'disk.img'), [{ type: GPT_TYPES.linux, sizeMiB: 2 }]);
    patchFile(disk, 512 + 40, new Uint8Array([0xff])); // FirstUsableLBA: the header's CRC no longer matches
    assert.equal((await tableOf(disk))?.partitions[0]?.offset, 1 << 20);
    const size = readFileSync(disk).length;
    patchFile(disk, size - 512 + 40, new Uint8Array([0xff]));
    await assert.rejects(tableOf(disk), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-partition-table' && /fails its CRC32/.test(e.message));
  });
});

test('a GPT entry array that fails its CRC32 is refused', async () => {
  await withTempDir('vireo-gpt-', async (dir) => {
    const disk = assembleDisk(join(dir, 'disk.img'), [{ type: GPT_TYPES.linux, sizeMiB: 2 }]);
    patchFile(disk, 1024 + 32, new Uint8Array([0x34, 0x12])); // entry 1's first LBA, in the array
    const size = readFileSync(disk).length;
    patchFile(disk, size - 33 * 512 + 32, new Uint8Array([0x34, 0x12])); // and in the backup array
    await assert.rejects(tableOf(disk), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-partition-table' && /entry array/.test(e.message));
  });
});

/** An MBR disk: an ESP, a Linux partition with the boot flag, and two logical partitions in an extended one. */
function mbrDisk(dir: string): string {
  const disk = join(dir, 'disk.img');
  run('truncate', ['-s', '12M', disk]);
  const d = 'disk.img';
  run('sfdisk', ['-q', disk], `label: dos\n${d}1 : start=2048, size=2048, type=ef\n${d}2 : start=4096, size=2048, type=83, bootable\n${d}3 : start=6144, size=16384, type=5\n${d}5 : size=1024, type=83\n${d}6 : size=2048, type=83\n`);
  return disk;
}

test('an MBR with a boot flag, an extended partition and logical partitions', async () => {
  await withTempDir('vireo-mbr-', async (dir) => {
    const table = await tableOf(mbrDisk(dir));
    assert.equal(table?.scheme, 'mbr');
    assert.deepEqual(table.partitions.map((p) => [p.number, p.offset / 512, p.type, p.bootable, p.esp]), [
      [1, 2048, '0xef', false, true],
      [2, 4096, '0x83', true, false],
      [5, 8192, '0x83', false, false],
      [6, 12288, '0x83', false, false],
    ]);
  });
});

test('an extended boot record chain that loops is a clear error, not a hang', async () => {
  await withTempDir('vireo-mbr-', async (dir) => {
    const disk = mbrDisk(dir);
    // The first EBR (at the extended partition's start, sector 6144) links to the second; make the second link to itself.
    const bytes = readFileSync(disk);
    const relative = bytes.readUInt32LE(6144 * 512 + 446 + 16 + 8);
    const second = (6144 + relative) * 512;
    assert.equal(bytes[second + 510], 0x55);
    const link = bytes.subarray(6144 * 512 + 446 + 16, 6144 * 512 + 446 + 32);
    patchFile(disk, second + 446 + 16, link);
    await assert.rejects(tableOf(disk), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-partition-table' && /loops back/.test(e.message));
  });
});

test('a whole-disk FAT file system and a blank disk have no partition table', async () => {
  await withTempDir('vireo-mbr-', async (dir) => {
    assert.equal(await tableOf(makeFat(dir, 'floppy', { 'a.txt': 'a' }, 2)), undefined);
    const blank = join(dir, 'blank.img');
    run('truncate', ['-s', '1M', blank]);
    assert.equal(await tableOf(blank), undefined);
  });
});

test('an MBR entry that runs past the end of the disk is refused', async () => {
  await withTempDir('vireo-mbr-', async (dir) => {
    const disk = assembleDisk(join(dir, 'disk.img'), [{ type: '83', sizeMiB: 1 }], 'mbr');
    patchFile(disk, 446 + 12, new Uint8Array([0xff, 0xff, 0xff, 0x00]));
    await assert.rejects(tableOf(disk), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-partition-table' && /does not fit/.test(e.message));
  });
});
