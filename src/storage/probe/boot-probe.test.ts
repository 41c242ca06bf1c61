import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryBlockBackend } from '../memory-block-backend.js';
import { openDiskImage } from '../disk-image.js';
import { probeBootDisk } from './boot-probe.js';
import { describeBootProbe, requireBootable } from './boot-probe-report.js';
import { ProbeError } from './probe-error.js';
import { GPT_TYPES, assembleDisk, makeExt4, makeFat, run, type DiskPartition } from '../../../tests/support/boot-disk.js';
import { withTempDir } from '../../../tests/support/temp-dir.js';

const EXTLINUX = { 'extlinux/extlinux.conf': 'label linux\n  kernel /vmlinux\n' };

async function probe(path: string, budget?: { bytes: number; reads: number }) {
  const disk = await openDiskImage(path, { readOnly: true });
  try {
    return await probeBootDisk(disk, path, budget);
  } finally {
    await disk.close();
  }
}

function disk(dir: string, partitions: DiskPartition[], scheme: 'gpt' | 'mbr' = 'gpt'): string {
  return assembleDisk(join(dir, 'disk.img'), partitions, scheme);
}

test('an ext4 partition marked bootable with extlinux.conf boots, also from a qcow2 copy', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const raw = disk(dir, [{ type: GPT_TYPES.linux, sizeMiB: 1 }, { type: GPT_TYPES.linux, image: makeExt4(dir, 'boot', EXTLINUX, 4), bootable: true }]);
    const found = await probe(raw);
    assert.deepEqual(found.boot, { partition: 2, method: 'extlinux', path: '/extlinux/extlinux.conf' });
    assert.deepEqual(requireBootable(found), { boots: 'partition 2: extlinux/extlinux.conf (extlinux)' });
    const qcow2 = join(dir, 'disk.qcow2');
    run('qemu-img', ['convert', '-O', 'qcow2', raw, qcow2]);
    assert.deepEqual((await probe(qcow2)).boot, found.boot);
  });
});

test('an EFI system partition with BOOTRISCV64.EFI boots as partition 1 with no partition marked', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const esp = makeFat(dir, 'esp', { 'EFI/BOOT/BOOTRISCV64.EFI': 'MZ', 'EFI/BOOT/grub.cfg': '' }, 8);
    const found = await probe(disk(dir, [{ type: GPT_TYPES.esp, image: esp }, { type: GPT_TYPES.linux, sizeMiB: 2 }]));
    assert.deepEqual(found.boot, { partition: 1, method: 'efi', path: '/EFI/BOOT/BOOTRISCV64.EFI' });
    assert.equal(found.partitions[0]?.fileSystem, 'FAT12'); // mkfs.vfat's choice for 8 MiB
  });
});

test('an MBR disk: the partition with the boot flag and /boot/extlinux', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const boot = makeExt4(dir, 'boot', { 'boot/extlinux/extlinux.conf': 'x' }, 4);
    const found = await probe(disk(dir, [{ type: '83', sizeMiB: 1 }, { type: '83', image: boot, bootable: true }], 'mbr'));
    assert.deepEqual(found.boot, { partition: 2, method: 'extlinux', path: '/boot/extlinux/extlinux.conf' });
  });
});

test('a configuration on a partition U-Boot does not scan is not bootable, and the error says how to fix it', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const path = disk(dir, [{ type: GPT_TYPES.linux, image: makeExt4(dir, 'root', { 'etc/hostname': 'x' }, 4) }, { type: GPT_TYPES.linux, image: makeExt4(dir, 'boot', EXTLINUX, 4) }]);
    const found = await probe(path);
    assert.equal(found.boot, undefined);
    assert.deepEqual(found.partitions.map((f) => [f.partition.number, f.scanned, f.fileSystem, f.bootFiles.length]), [[1, true, 'ext4', 0], [2, false, 'ext4', 1]]);
    assert.throws(() => requireBootable(found), (e: unknown) => {
      assert.ok(e instanceof ProbeError && e.kind === 'not-bootable');
      assert.match(e.message, /looks for extlinux\/extlinux\.conf/);
      assert.match(e.message, /EFI\/BOOT\/BOOTRISCV64\.EFI/);
      assert.match(e.message, /GPT with 2 partitions; U-Boot scans partition 1 only/);
      assert.match(e.message, /1: Linux filesystem \(0FC63DAF-8483-4772-8E79-3D69D8477DE4\), 4\.0 MiB: ext4, none of those files/);
      assert.match(e.message, /partition 2 has extlinux\/extlinux\.conf but U-Boot does not scan it: set its legacy BIOS bootable attribute/);
      return true;
    });
  });
});

test('a disk with no partition table (blank, or one whole-disk file system), or with only empty partitions, is not bootable', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const blank = join(dir, 'blank.img');
    run('truncate', ['-s', '4M', blank]);
    assert.throws(() => requireBootable({ disk: blank, scheme: undefined, partitions: [] }), /no partition table/);
    assert.match(describeBootProbe(await probe(blank)), /has no partition table/);
    const whole = await probe(makeExt4(dir, 'whole', EXTLINUX, 4));
    assert.equal(whole.wholeDisk, 'ext4');
    assert.throws(() => requireBootable(whole), /no partition table .*; it is one ext4 file system, which U-Boot does not boot without a partition table/);
    const empty = await probe(disk(dir, [{ type: GPT_TYPES.linux, sizeMiB: 2, bootable: true }]));
    assert.throws(() => requireBootable(empty), /marked bootable, 2\.0 MiB: no ext2\/3\/4 or FAT file system/);
  });
});

test('a corrupt file system on a scanned partition is named in the error; a corrupt one elsewhere does not stop the boot', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const bad = makeFat(dir, 'bad', { 'EFI/BOOT/BOOTRISCV64.EFI': 'MZ' }, 2);
    run('dd', ['if=/dev/zero', `of=${bad}`, 'bs=1', 'seek=13', 'count=1', 'conv=notrunc', 'status=none']); // 0 sectors per cluster
    const notBootable = await probe(disk(dir, [{ type: GPT_TYPES.esp, image: bad }]));
    assert.throws(() => requireBootable(notBootable), /unreadable: .*partition 1 of .*BPB_SecPerClus is 0/);
    const good = makeExt4(dir, 'good', EXTLINUX, 4);
    const bootable = await probe(disk(dir, [{ type: GPT_TYPES.esp, image: bad, bootable: true }, { type: GPT_TYPES.linux, image: good, bootable: true }]));
    assert.equal(bootable.boot?.partition, 2);
    assert.equal(bootable.partitions[0]?.problem?.kind, 'bad-file-system');
  });
});

test('a probe that reads more than its budget stops with too-much-work', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const path = disk(dir, [{ type: GPT_TYPES.linux, image: makeExt4(dir, 'boot', EXTLINUX, 4), bootable: true }]);
    await assert.rejects(probe(path, { bytes: 1 << 20, reads: 5 }), (e: unknown) => e instanceof ProbeError && e.kind === 'too-much-work');
  });
});

test('random damage to the tables and file systems ends in a result or a ProbeError, never another exception', async () => {
  await withTempDir('vireo-probe-', async (dir) => {
    const esp = makeFat(dir, 'esp', { 'EFI/BOOT/BOOTRISCV64.EFI': 'MZ', 'a-long-file-name.txt': '' }, 2);
    const boot = makeExt4(dir, 'boot', { ...EXTLINUX, 'boot/x': '' }, 2);
    const pristine = readFileSync(disk(dir, [{ type: GPT_TYPES.esp, image: esp, bootable: true }, { type: GPT_TYPES.linux, image: boot, bootable: true }]));
    // Where the metadata is: the protective MBR and GPT, and the first 64 KiB of each partition.
    const regions = [[0, 34 * 512], [1 << 20, (1 << 20) + 65536], [3 << 20, (3 << 20) + 65536]] as const;
    let seed = 0x12345678;
    const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 300; round++) {
      const bytes = pristine.slice();
      for (let i = 1 + random(6); i > 0; i--) {
        const [from, to] = regions[random(regions.length)]!;
        bytes[from + random(to - from)] = random(256);
      }
      const backend = new MemoryBlockBackend({ contents: bytes, readOnly: true });
      let outcome: string;
      try {
        const found = await probeBootDisk(backend, `round ${round}`, { bytes: 64 << 20, reads: 20_000 });
        outcome = found.boot ? 'boots' : 'nothing';
      } catch (e) {
        assert.ok(e instanceof ProbeError, `round ${round}: ${(e as Error).stack}`);
        outcome = e.kind;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Most damage misses what matters; some must hit the GPT's checksums.
    assert.ok((outcomes.get('boots') ?? 0) > 0 && (outcomes.get('bad-partition-table') ?? 0) > 0, JSON.stringify([...outcomes]));
  });
});
