// Builds the real Debian riscv64 guest image from Debian's packages (about 125 MB of
// downloads the first time, cached under $VIREO_CACHE or ~/.cache/vireo afterwards) and checks
// what it produced; then that a second call does nothing, and that a cache holding only the
// manifest and the .debs is rebuilt from those exact packages without the network.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readCpioNewc } from '../../src/images/cpio-newc.js';
import { ensureDebianImage, imageDirectory } from '../../src/images/debian-image.js';
import type { DebianImage } from '../../src/images/debian-image.js';
import { checkOutputs, parseManifest } from '../../src/images/image-manifest.js';
import type { ImageManifest } from '../../src/images/image-manifest.js';
import { debFileName, sha256File } from '../../src/images/private-apt.js';

const log = (step: string, detail: string): void => {
  if (process.env.VIREO_TEST_VERBOSE) process.stderr.write(`image ${step}: ${detail}\n`);
};

function readManifest(image: DebianImage): ImageManifest {
  return parseManifest(JSON.parse(readFileSync(image.manifest, 'utf8')));
}

function bytesAt(path: string, offset: number, length: number): Buffer {
  return readFileSync(path).subarray(offset, offset + length);
}

test('the Debian riscv64 image is built from Debian packages, then reused, then rebuilt from its pins', { timeout: 600_000 }, async (t) => {
  const image = await ensureDebianImage({ onProgress: log });
  const manifest = readManifest(image);

  await t.test('outputs have the right formats', () => {
    assert.ok(statSync(image.firmware).size > 64 * 1024, 'OpenSBI fw_jump.bin');
    assert.equal(bytesAt(image.kernel, 0x30, 8).toString('latin1'), 'RISCV\0\0\0');
    assert.equal(bytesAt(image.kernel, 0x38, 4).toString('latin1'), 'RSC\x05');
    assert.deepEqual([...bytesAt(image.initrd, 0, 2)], [0x1f, 0x8b]);
    assert.equal(bytesAt(image.rootDisk, 1080, 2).readUInt16LE(0), 0xef53, 'ext4 superblock magic');
  });

  await t.test('the initrd holds busybox, /init and the modules it loads, uncompressed', () => {
    const entries = readCpioNewc(gunzipSync(readFileSync(image.initrd)));
    const files = new Map(entries.flatMap((e) => (e.type === 'file' ? [[e.path, Buffer.from(e.data)] as const] : [])));
    assert.ok(files.has('bin/busybox') && files.has('init'));
    const init = files.get('init')!.toString();
    const loads = [...init.matchAll(/^load (\S+)$/gm)].map((m) => m[1]!.split('/').pop()!.replace(/\.ko$/, '').replace(/-/g, '_'));
    assert.deepEqual(loads, manifest.modules);
    for (const name of ['ext4', 'jbd2', 'virtio_blk', 'virtio_mmio', 'virtio_net']) assert.ok(loads.includes(name), name);
    assert.ok(loads.indexOf('jbd2') < loads.indexOf('ext4') && loads.indexOf('mbcache') < loads.indexOf('ext4'));
    const modules = [...files].filter(([path]) => path.endsWith('.ko'));
    assert.equal(modules.length, loads.length);
    for (const [path, data] of modules) assert.equal(data.readUInt32BE(0), 0x7f454c46, `${path} is an uncompressed ELF file`);
  });

  await t.test('the manifest names every package with its hash and matches the outputs', async () => {
    const names = manifest.packages.map((p) => p.name);
    for (const name of ['opensbi', 'busybox-static', 'libc6', 'coreutils', 'dash', 'xz-utils']) assert.ok(names.includes(name), name);
    const kernel = manifest.packages.find((p) => p.use === 'kernel')!;
    assert.equal(kernel.name, `linux-image-${manifest.kernelVersion}`);
    assert.match(manifest.kernelVersion, /^\d+\.\d+\.\d+.*-riscv64$/);
    assert.equal(image.versions.kernelRelease, manifest.kernelVersion);
    assert.ok(manifest.mirror.host.length > 0);
    assert.deepEqual(await checkOutputs(image.dir, manifest), []);
    for (const p of manifest.packages) assert.equal(await sha256File(join(image.dir, 'apt', 'archives', debFileName(p))), p.sha256, p.name);
  });

  const debugfs = spawnSync('debugfs', ['-R', 'ls -l /usr/bin', image.rootDisk], { encoding: 'utf8' });
  await t.test('the root disk has the userland and an init', { skip: debugfs.error ? 'debugfs is not installed' : false }, () => {
    for (const tool of ['xz', 'sha256sum', 'dash', 'busybox', 'ls']) assert.match(debugfs.stdout, new RegExp(` ${tool}\\s*$`, 'm'), tool);
    assert.match(spawnSync('debugfs', ['-R', 'stat /usr/sbin/init', image.rootDisk], { encoding: 'utf8' }).stdout, /Fast link dest: "\.\.\/bin\/busybox"/);
  });

  await t.test('a second call does nothing', async () => {
    const manifestBefore = readFileSync(image.manifest, 'utf8');
    const mtimes = [image.firmware, image.kernel, image.initrd, image.rootDisk].map((p) => statSync(p).mtimeMs);
    const started = Date.now();
    const again = await ensureDebianImage({ onProgress: log });
    assert.equal(again.built, false);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.equal(readFileSync(image.manifest, 'utf8'), manifestBefore);
    assert.deepEqual([again.firmware, again.kernel, again.initrd, again.rootDisk].map((p) => statSync(p).mtimeMs), mtimes);
  });

  await t.test('a cache with only the manifest and the .debs is rebuilt from them, offline', async () => {
    const cacheRoot = mkdtempSync(join(tmpdir(), 'vireo-image-test-'));
    try {
      const dir = imageDirectory(cacheRoot);
      mkdirSync(join(dir, 'apt', 'archives'), { recursive: true });
      copyFileSync(image.manifest, join(dir, 'manifest.json'));
      for (const p of manifest.packages) {
        const from = join(image.dir, 'apt', 'archives', debFileName(p));
        const to = join(dir, 'apt', 'archives', debFileName(p));
        try {
          linkSync(from, to);
        } catch {
          copyFileSync(from, to);
        }
      }
      // An unusable mirror: the rebuild must not need one.
      const rebuilt = await ensureDebianImage({ cacheRoot, mirror: 'file:/nonexistent/debian', onProgress: log });
      assert.equal(rebuilt.built, true);
      const fresh = readManifest(rebuilt);
      assert.deepEqual(fresh.packages, manifest.packages);
      // Firmware, kernel and initrd come out bit for bit the same; the ext4 image keeps build times.
      for (const name of ['firmware', 'kernel', 'initrd'] as const) assert.equal(fresh.outputs[name].sha256, manifest.outputs[name].sha256, name);
      assert.deepEqual(await checkOutputs(dir, fresh), []);
      assert.equal((await ensureDebianImage({ cacheRoot, mirror: 'file:/nonexistent/debian' })).built, false);
    } finally {
      rmSync(cacheRoot, { recursive: true, force: true });
    }
  });
});
