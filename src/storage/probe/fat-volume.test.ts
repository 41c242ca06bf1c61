import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import type { DiskReader } from './disk-reader.js';
import { looksLikeFat, readFatLayout } from './fat-boot-sector.js';
import { fatDirEntries } from './fat-directory.js';
import { FatVolume } from './fat-volume.js';
import { ProbeError } from './probe-error.js';
import { makeFat, type DiskFiles, patchFile, withDiskReader } from '../../../tests/support/boot-disk.js';
import { withTempDir } from '../../../tests/support/temp-dir.js';

function withVolume<T>(image: string, use: (volume: FatVolume, part: DiskReader) => Promise<T>): Promise<T> {
  return withDiskReader(image, async (disk) => {
    const part = disk.partitionWindow(1, 0, statSync(image).size);
    return use(await FatVolume.open(part), part);
  });
}

const ESP_FILES: DiskFiles = {
  'EFI/BOOT/BOOTRISCV64.EFI': 'MZ',
  'extlinux/extlinux.conf': 'default linux\n',
  'A Long File Name With Spaces.conf': 'x',
};

for (const [bits, sizeMiB] of [[12, 2], [16, 20], [32, 40]] as const) {
  test(`FAT${bits}: long and short names, case-insensitive like U-Boot`, async () => {
    await withTempDir('vireo-fat-', async (dir) => {
      const image = makeFat(dir, `fat${bits}`, ESP_FILES, sizeMiB, bits);
      await withVolume(image, async (fs) => {
        assert.equal(fs.type, `FAT${bits}`);
        assert.equal(await fs.lookup('/EFI/BOOT/BOOTRISCV64.EFI'), 'file');
        assert.equal(await fs.lookup('/efi/boot/bootriscv64.efi'), 'file');
        assert.equal(await fs.lookup('/extlinux/extlinux.conf'), 'file');
        assert.equal(await fs.lookup('/a long file name with spaces.conf'), 'file');
        assert.equal(await fs.lookup('/EFI/BOOT'), 'directory');
        assert.equal(await fs.lookup('/EFI/BOOT/BOOTX64.EFI'), undefined);
        assert.equal(await fs.lookup('/extlinux/extlinux.conf/x'), undefined);
      });
    });
  });
}

/** A FAT16 image whose EFI directory spans several clusters; returns it with the directory's first cluster. */
async function bigDirectory(dir: string): Promise<{ image: string; cluster: number; fatOffset: number; rootDirOffset: number }> {
  const files: DiskFiles = {};
  for (let i = 0; i < 200; i++) files[`EFI/a-long-name-for-entry-${i}.txt`] = '';
  files['EFI/BOOT/BOOTRISCV64.EFI'] = 'MZ';
  const image = makeFat(dir, 'big', files, 20, 16);
  return withVolume(image, async (_fs, part) => {
    const layout = await readFatLayout(part);
    const root = fatDirEntries(readFileSync(image).subarray(layout.rootDirOffset, layout.rootDirOffset + layout.rootDirBytes)).entries;
    const efi = root.find((e) => e.shortName === 'EFI')!;
    return { image, cluster: efi.firstCluster, fatOffset: layout.fatOffset, rootDirOffset: layout.rootDirOffset };
  });
}

test('a directory spanning several clusters is read along its chain', async () => {
  await withTempDir('vireo-fat-', async (dir) => {
    const { image } = await bigDirectory(dir);
    await withVolume(image, async (fs) => {
      assert.equal(await fs.lookup('/EFI/a-long-name-for-entry-199.txt'), 'file');
      assert.equal(await fs.lookup('/EFI/BOOT/BOOTRISCV64.EFI'), 'file');
    });
  });
});

test('a cluster chain that loops is a clear error, not a hang', async () => {
  await withTempDir('vireo-fat-', async (dir) => {
    const { image, cluster, fatOffset } = await bigDirectory(dir);
    patchFile(image, fatOffset + cluster * 2, new Uint8Array([cluster & 0xff, cluster >> 8])); // the first cluster's successor is itself
    await withVolume(image, async (fs) => {
      await assert.rejects(fs.lookup('/EFI/BOOT/BOOTRISCV64.EFI'), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-file-system' && /loops/.test(e.message));
    });
  });
});

test('a directory entry naming a cluster outside the volume is a clear error', async () => {
  await withTempDir('vireo-fat-', async (dir) => {
    const { image, rootDirOffset } = await bigDirectory(dir);
    const root = readFileSync(image).subarray(rootDirOffset, rootDirOffset + 4096);
    const at = [...Array(128).keys()].map((i) => i * 32).find((o) => Buffer.from(root.subarray(o, o + 11)).toString('latin1') === 'EFI        ')!;
    patchFile(image, rootDirOffset + at + 26, new Uint8Array([0xf0, 0xff]));
    await withVolume(image, async (fs) => {
      await assert.rejects(fs.lookup('/EFI/BOOT/BOOTRISCV64.EFI'), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-file-system' && /outside/.test(e.message));
    });
  });
});

test('a boot sector with an impossible sector size is refused', async () => {
  await withTempDir('vireo-fat-', async (dir) => {
    const image = makeFat(dir, 'bpb', ESP_FILES, 2);
    patchFile(image, 11, new Uint8Array([0x00, 0x03])); // 768 bytes per sector
    await assert.rejects(withVolume(image, async () => undefined), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-file-system' && /BytsPerSec/.test(e.message));
  });
});

test('an NTFS boot sector, shaped like FAT, is not taken for one', async () => {
  await withTempDir('vireo-fat-', async (dir) => {
    const image = makeFat(dir, 'ntfs', {}, 2);
    await withDiskReader(image, async (disk) => assert.equal(await looksLikeFat(disk.partitionWindow(1, 0, statSync(image).size)), true));
    patchFile(image, 3, new TextEncoder().encode('NTFS    '));
    await withDiskReader(image, async (disk) => assert.equal(await looksLikeFat(disk.partitionWindow(1, 0, statSync(image).size)), false));
  });
});
