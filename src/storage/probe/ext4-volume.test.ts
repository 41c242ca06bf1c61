import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { Ext4Volume } from './ext4-volume.js';
import { ProbeError } from './probe-error.js';
import { makeExt4, run, type DiskFiles, patchFile, withDiskReader } from '../../../tests/support/boot-disk.js';
import { withTempDir } from '../../../tests/support/temp-dir.js';

/** Opens a file system image as partition 1 of a disk and runs `use` on it. */
function withVolume<T>(image: string, use: (volume: Ext4Volume) => Promise<T>): Promise<T> {
  return withDiskReader(image, async (disk) => use(await Ext4Volume.open(disk.partitionWindow(1, 0, statSync(image).size))));
}

/** Byte offset of an inode in the image, as debugfs's imap reports it. */
function inodeOffset(image: string, inode: number, blockSize: number): number {
  const out = run('debugfs', ['-R', `imap <${inode}>`, image]);
  const m = /located at block (\d+), offset (0x[0-9a-f]+)/.exec(out);
  assert.ok(m, out);
  return Number(m[1]) * blockSize + Number(m[2]);
}

const BOOT_FILES: DiskFiles = { 'extlinux/extlinux.conf': 'default linux\n', 'boot/extlinux/extlinux.conf': 'x', 'vmlinux': 'kernel' };

test('ext4 with extents: files, directories and missing paths; names match exactly', async () => {
  await withTempDir('vireo-ext4-', async (dir) => {
    const image = makeExt4(dir, 'boot', BOOT_FILES, 4);
    await withVolume(image, async (fs) => {
      assert.equal(fs.type, 'ext4');
      assert.equal(await fs.lookup('/extlinux/extlinux.conf'), 'file');
      assert.equal(await fs.lookup('/boot/extlinux/extlinux.conf'), 'file');
      assert.equal(await fs.lookup('/boot/extlinux'), 'directory');
      assert.equal(await fs.lookup('/'), 'directory');
      assert.equal(await fs.lookup('/EXTLINUX/extlinux.conf'), undefined);
      assert.equal(await fs.lookup('/extlinux/missing.conf'), undefined);
      assert.equal(await fs.lookup('/vmlinux/extlinux.conf'), undefined);
    });
  });
});

test('ext2 with 1 KiB blocks and the old block map: a directory reached through its indirect block', async () => {
  await withTempDir('vireo-ext2-', async (dir) => {
    const files: DiskFiles = {};
    // 400 entries of about 60 bytes: some 24 KiB of directory, past the 12 direct blocks.
    for (let i = 0; i < 400; i++) files[`many/${'f'.repeat(48)}-${String(i).padStart(4, '0')}`] = '';
    files['many/zz-last'] = 'last';
    const image = makeExt4(dir, 'old', files, 8, ['-t', 'ext2', '-b', '1024']);
    await withVolume(image, async (fs) => {
      assert.equal(fs.type, 'ext2');
      assert.equal(await fs.lookup('/many/zz-last'), 'file');
      assert.equal(await fs.lookup(`/many/${'f'.repeat(48)}-0399`), 'file');
      assert.equal(await fs.lookup('/many/zz-missing'), undefined);
    });
  });
});

test('ext4 with a hashed (htree) directory of 3000 entries', async () => {
  await withTempDir('vireo-ext4-', async (dir) => {
    const files: DiskFiles = {};
    for (let i = 0; i < 3000; i++) files[`big/entry-${i}`] = '';
    const image = makeExt4(dir, 'big', files, 16);
    // mkfs.ext4 -d writes linear directories; e2fsck -D rebuilds them as hash trees (exit 1: "changed").
    assert.ok([0, 1].includes(spawnSync('e2fsck', ['-fyD', image]).status ?? -1));
    assert.match(run('debugfs', ['-R', 'htree /big', image]), /Root node dump/);
    await withVolume(image, async (fs) => {
      assert.equal(await fs.lookup('/big/entry-2999'), 'file');
      assert.equal(await fs.lookup('/big/entry-3000'), undefined);
    });
  });
});

test('a directory extent pointing past the end of the file system is a clear error', async () => {
  await withTempDir('vireo-ext4-', async (dir) => {
    const image = makeExt4(dir, 'bad', BOOT_FILES, 4);
    // The root inode's first extent (i_block at 0x28: a 12-byte header, then ee_start_lo at +8).
    patchFile(image, inodeOffset(image, 2, 1024) + 0x28 + 12 + 8, new Uint8Array([0x00, 0xff, 0xff, 0x0f]));
    await withVolume(image, async (fs) => {
      await assert.rejects(fs.lookup('/extlinux/extlinux.conf'), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-file-system' && /past the last block/.test(e.message));
    });
  });
});

test('an extent tree whose index node points at itself is caught, not followed forever', async () => {
  await withTempDir('vireo-ext4-', async (dir) => {
    const image = makeExt4(dir, 'loop', BOOT_FILES, 4);
    const blockSize = 1024; // mkfs picks 1 KiB blocks for a 4 MiB file system
    const self = 4000; // a block inside the 4096-block file system, left unused
    const node = new Uint8Array(blockSize);
    const view = new DataView(node.buffer);
    view.setUint16(0, 0xf30a, true);
    view.setUint16(2, 1, true); // entries
    view.setUint16(4, 4, true); // max
    view.setUint16(6, 1, true); // depth 1: an index node...
    view.setUint32(12 + 4, self, true); // ...whose only child is itself
    patchFile(image, self * blockSize, node);
    const root = new Uint8Array(24);
    root.set(node.subarray(0, 24));
    patchFile(image, inodeOffset(image, 2, blockSize) + 0x28, root);
    await withVolume(image, async (fs) => {
      await assert.rejects(fs.lookup('/extlinux/extlinux.conf'), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-file-system' && /depth/.test(e.message));
    });
  });
});

test('a superblock that claims more blocks than the partition holds is refused', async () => {
  await withTempDir('vireo-ext4-', async (dir) => {
    const image = makeExt4(dir, 'sb', BOOT_FILES, 4);
    patchFile(image, 1024 + 4, new Uint8Array([0xff, 0xff, 0xff, 0x00]));
    await assert.rejects(withVolume(image, async () => undefined), (e: unknown) => e instanceof ProbeError && e.kind === 'bad-file-system' && /do not fit/.test(e.message));
  });
});

test('directories kept inline in their inode are reported as unsupported, not misread', async () => {
  await withTempDir('vireo-ext4-', async (dir) => {
    const image = makeExt4(dir, 'inline', { 'extlinux/extlinux.conf': 'x' }, 4, ['-O', 'inline_data']);
    await withVolume(image, async (fs) => {
      await assert.rejects(fs.lookup('/extlinux/extlinux.conf'), (e: unknown) => e instanceof ProbeError && e.kind === 'unsupported');
    });
  });
});
