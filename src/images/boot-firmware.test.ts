import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootFirmwareDirectory, ensureBootFirmware } from './boot-firmware.js';
import { BOOT_FIRMWARE_FORMAT, outputDigest, type BootFirmwareManifest } from './boot-firmware-manifest.js';
import { ImageError } from './image-error.js';
import { debFileName, sha256File } from './private-apt.js';
import { run } from '../../tests/support/boot-disk.js';
import { withTempDir } from '../../tests/support/temp-dir.js';

/** Nothing listens on port 9 (discard): apt fails at once if the code reaches for the network. */
const NO_MIRROR = 'http://127.0.0.1:9/debian';

/** A .deb holding `files`, built with dpkg-deb, in the firmware cache's archive directory. */
async function fakeDeb(work: string, archives: string, name: string, architecture: string, files: Record<string, string>) {
  const tree = join(work, name);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  writeFileSync(join(tree, 'DEBIAN', 'control'), `Package: ${name}\nVersion: 1.0-1\nArchitecture: ${architecture}\nMaintainer: Test <test@example.org>\nDescription: test package\n`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(tree, path, '..'), { recursive: true });
    writeFileSync(join(tree, path), content);
  }
  const record = { name, version: '1.0-1', architecture };
  const deb = join(archives, debFileName(record));
  mkdirSync(archives, { recursive: true });
  run('dpkg-deb', ['--root-owner-group', '-b', tree, deb]);
  return { ...record, sha256: await sha256File(deb), size: readFileSync(deb).length };
}

/** A cache whose manifest pins three fake packages and whose outputs are missing. */
async function pinnedCache(root: string): Promise<string> {
  const dir = bootFirmwareDirectory(root);
  const archives = join(dir, 'apt', 'archives');
  const openSbi = await fakeDeb(root, archives, 'opensbi', 'all', { 'usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin': 'opensbi image' });
  const uBoot = await fakeDeb(root, archives, 'u-boot-qemu', 'all', { 'usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin': 'u-boot image' });
  const grub = await fakeDeb(root, archives, 'grub-efi-riscv64-bin', 'riscv64', { 'usr/lib/grub/riscv64-efi/normal.mod': 'normal', 'usr/lib/grub/riscv64-efi/kernel.img': 'kernel' });
  const zero = { sha256: '0'.repeat(64), size: 0 };
  const manifest: BootFirmwareManifest = {
    format: BOOT_FIRMWARE_FORMAT,
    name: 'boot-firmware-trixie-riscv64',
    suite: 'trixie',
    mirror: { host: '127.0.0.1', uri: NO_MIRROR },
    packages: [{ ...openSbi, use: 'opensbi' }, { ...uBoot, use: 'u-boot' }, { ...grub, use: 'grub' }],
    outputs: { openSbi: { file: 'fw_jump.bin', ...zero }, uBoot: { file: 'u-boot.bin', ...zero }, grubModules: { file: 'grub-riscv64-efi', ...zero } },
    builtAt: '',
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

test('a damaged cache is rebuilt from the .debs its manifest pins, without the network; a complete one is only checked', async () => {
  await withTempDir('vireo-firmware-', async (root) => {
    const dir = await pinnedCache(root);
    const first = await ensureBootFirmware({ cacheRoot: root, mirror: NO_MIRROR });
    assert.equal(first.built, true);
    assert.equal(readFileSync(first.openSbi, 'utf8'), 'opensbi image');
    assert.equal(readFileSync(first.uBoot, 'utf8'), 'u-boot image');
    assert.deepEqual(readdirSync(first.grubModules).sort(), ['kernel.img', 'normal.mod']);
    assert.deepEqual(first.versions, { opensbi: '1.0-1', 'u-boot': '1.0-1', grub: '1.0-1' });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BootFirmwareManifest;
    assert.deepEqual(manifest.outputs.grubModules, { file: 'grub-riscv64-efi', ...(await outputDigest(first.grubModules)) });

    assert.equal((await ensureBootFirmware({ cacheRoot: root, mirror: NO_MIRROR })).built, false);
    writeFileSync(join(first.grubModules, 'normal.mod'), 'changed');
    const again = await ensureBootFirmware({ cacheRoot: root, mirror: NO_MIRROR });
    assert.equal(again.built, true);
    assert.equal(readFileSync(join(again.grubModules, 'normal.mod'), 'utf8'), 'normal');
  });
});

test('when the pinned .debs are gone the packages are fetched again, and an unreachable mirror is a clear ImageError', async () => {
  await withTempDir('vireo-firmware-', async (root) => {
    const dir = await pinnedCache(root);
    writeFileSync(join(dir, 'apt', 'archives', debFileName({ name: 'u-boot-qemu', version: '1.0-1', architecture: 'all' })), 'truncated');
    await assert.rejects(ensureBootFirmware({ cacheRoot: root, mirror: NO_MIRROR }), (e: unknown) => e instanceof ImageError && e.kind === 'mirror-unreachable');
  });
});
